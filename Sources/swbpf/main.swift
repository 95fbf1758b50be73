import SwbpfCLI

await CLI.main()
