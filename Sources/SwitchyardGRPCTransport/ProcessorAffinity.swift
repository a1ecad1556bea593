import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How many CPUs this process may actually run on.
///
/// `System.coreCount` reports the machine's online CPUs and ignores the scheduler affinity
/// mask, so under `taskset -c 1` it still says 2: the default groups then run two event loops
/// and two cooperative threads on one core, and every hand-off between them is a context
/// switch. Sizing from `sched_getaffinity` gives one loop per CPU we can really use.
package enum ProcessorAffinity {
    /// The number of CPUs in this process's affinity mask (at least 1); `System.coreCount`
    /// where the mask cannot be read.
    package static var usableProcessorCount: Int {
        #if os(Linux)
        if let count = affinityCount(), count > 0 { return count }
        #endif
        return max(1, System.coreCount)
    }

    #if os(Linux)
    private typealias SchedGetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// Glibc declares `sched_getaffinity` only under `_GNU_SOURCE`, which Swift's Glibc module
    /// does not define, so it is looked up at run time.
    private static func affinityCount() -> Int? {
        guard let symbol = dlsym(nil, "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(symbol, to: SchedGetAffinity.self)
        // Room for 1024 CPUs, glibc's cpu_set_t.
        var mask = [UInt8](repeating: 0, count: 128)
        let result = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress) }
        guard result == 0 else { return nil }
        return mask.reduce(0) { $0 + $1.nonzeroBitCount }
    }
    #endif
}
