/// A timeout for the calls a task makes through `SwitchyardHTTP2ClientTransport`, given to the
/// transport directly rather than as `CallOptions.timeout`.
///
/// Why a second way: with `CallOptions.timeout` set, grpc-swift's client executor runs every
/// call inside a task group racing a `Task.sleep` to the deadline: two child tasks and a timer
/// per call, and the timer wakes libdispatch's manager thread, which on a busy core is a
/// context switch each time (that thread alone took 6% of the CPU of GETs through the whole
/// path, measured on one core).
/// This transport enforces deadlines itself anyway, with one sweep per connection: a timeout
/// given here bounds the wait for a connection, travels as `grpc-timeout`, and fails the call
/// with DEADLINE_EXCEEDED when it runs out, exactly as `CallOptions.timeout` does on this
/// transport, without the executor's timer. `CallOptions.timeout`, when set, wins.
package enum TransportCallTimeout {
    @TaskLocal package static var current: Duration?
}
