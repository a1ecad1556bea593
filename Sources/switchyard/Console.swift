import Foundation

/// Lines meant for the person (or test) that started the process, such as where each server
/// listens. Written straight to the file descriptor: a buffered `print` to a pipe would hold
/// them back until exit.
enum Console {
    static func announce(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
