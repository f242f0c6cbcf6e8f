import Foundation
import Glibc

// accord-fuzz: libFuzzer targets for Accord's readers (Tools/Fuzz/README.md).
//
//   accord-fuzz TARGET [FILE|DIR …]       replay inputs through TARGET (a regression run)
//   accord-fuzz TARGET --seeds DIR        write TARGET's seed corpus into DIR
//   accord-fuzz TARGET [libFuzzer flags] CORPUS…   fuzz (only when built with -DACCORD_FUZZ
//                                          and -sanitize=fuzzer,address; see Tools/fuzz.sh)
//
// TARGET is one of segment, record, bundle, http, projection. SwiftPM gives an executable its own `main`,
// so libFuzzer's `main` is not used: this file calls `LLVMFuzzerRunDriver` itself.

var arguments = CommandLine.arguments
// libFuzzer re-executes the program (-fork, -minimize_crash) with its own flags only, so the
// target is also passed down in the environment.
let targetName: String
if arguments.count > 1, FuzzTargets.names.contains(arguments[1]) {
    targetName = arguments.remove(at: 1)
    setenv("ACCORD_FUZZ_TARGET", targetName, 1)
} else if let name = ProcessInfo.processInfo.environment["ACCORD_FUZZ_TARGET"], FuzzTargets.names.contains(name) {
    targetName = name
} else {
    FileHandle.standardError.write(Data("usage: accord-fuzz \(FuzzTargets.names.joined(separator: "|")) [--seeds DIR | FILE|DIR … | libFuzzer flags]\n".utf8))
    exit(2)
}
nonisolated(unsafe) let target = FuzzTargets.make(targetName)!

if arguments.count == 3, arguments[1] == "--seeds" {
    try FileManager.default.createDirectory(atPath: arguments[2], withIntermediateDirectories: true)
    try target.writeSeeds(to: arguments[2])
    let count = try FileManager.default.contentsOfDirectory(atPath: arguments[2]).count
    print("\(targetName): \(count) seed inputs in \(arguments[2])")
    exit(0)
}

#if ACCORD_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// Only for the link: the libFuzzer runtime's own `main` refers to it. SwiftPM makes this
/// file's code the program's entry point, which calls ``LLVMFuzzerRunDriver`` below.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

var argc = Int32(arguments.count)
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}
exit(status)
#else
// Without libFuzzer: replay every file given (directories: every file in them, sorted).
var files: [String] = []
for path in arguments.dropFirst() {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        FileHandle.standardError.write(Data("accord-fuzz: no such file '\(path)'\n".utf8))
        exit(2)
    }
    if isDirectory.boolValue {
        files += try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
    } else {
        files.append(path)
    }
}
for file in files {
    target.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
}
print("\(targetName): replayed \(files.count) inputs, no crash")
#endif
