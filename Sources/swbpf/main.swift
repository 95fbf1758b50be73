import SwbpfCLI

CLI.start()
