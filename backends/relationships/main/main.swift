import Glibc
import RelationshipService

// relationship-service [--listen ADDR] [--data-dir DIR]                               (SPEC §8)
exit(RelationshipServiceCommand.main(Array(CommandLine.arguments.dropFirst())))
