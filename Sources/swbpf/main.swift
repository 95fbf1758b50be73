import SwbpfCore
