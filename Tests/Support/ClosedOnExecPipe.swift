public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Pipe {
    /// A pipe whose descriptors no child process inherits, unless given to it as a standard stream.
    ///
    /// Foundation's pipes are not closed on exec, so a child that another test starts while this pipe is
    /// open (a Redis server that lives for the rest of the run) keeps its write end: the reader then never
    /// sees end of file after its own child exits. That hung a CI run: a TLS test read a finished Python
    /// child's output forever, its write end held by a Redis cluster node started at the same moment.
    /// The child this pipe is for still gets it: a descriptor given as a standard stream is copied onto
    /// 0, 1 or 2 in the child, and the copy is not closed on exec.
    public static func closedOnExec() -> Pipe {
        let pipe = Pipe()
        for handle in [pipe.fileHandleForReading, pipe.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        return pipe
    }
}
