package import Logging

/// A log handler that keeps the logger's own metadata and hands it to `Inner` only when a
/// line is written: setting metadata costs a dictionary store.
///
/// Why: swift-log's `StreamLogHandler` renders its metadata to text every time a key is set.
/// Hummingbird sets `hb.request.id` on every request's logger, so each request paid for
/// formatting a line it almost never writes (0.8% of a GET through the whole path, at the
/// default `info` level where nothing per request is logged). The lines written are the same:
/// `Inner` sees the metadata it would have merged itself (the logger's, then the provider's,
/// then the call's), as the call's metadata.
package struct DeferredMetadataLogHandler<Inner: LogHandler>: LogHandler {
    private var inner: Inner
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    /// - Parameter inner: The handler that formats and writes; its own metadata and provider
    ///   are not used (this handler passes everything with each event).
    package init(_ inner: Inner, metadataProvider: Logger.MetadataProvider?) {
        var inner = inner
        inner.metadata = [:]
        inner.metadataProvider = nil
        self.inner = inner
        self.metadataProvider = metadataProvider
    }

    package var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        var event = event
        event.metadata = merged
        inner.log(event: event)
    }
}
