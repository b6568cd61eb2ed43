import Glibc
import RelationshipService

// relationship-service [--listen ADDR] [--data-dir DIR] [--profiles-grpc ADDR]    (SPEC §8, issue 16)
exit(RelationshipServiceCommand.main(Array(CommandLine.arguments.dropFirst())))
