package import NIOCore

/// A NATS header block: the `NATS/1.0` status line (with an optional status code and
/// description, as the server sends for no-responders, pull timeouts and heartbeats) and
/// multi-valued fields whose names keep their case.
package struct NATSHeaders: Sendable, Hashable {
    package struct Field: Sendable, Hashable {
        package var name: String
        package var value: String
    }

    /// The status code of the status line (`503`, `408`, `100`…), if it has one.
    package var status: Int?
    package var statusDescription: String?
    package private(set) var fields: [Field] = []

    package init(status: Int? = nil, statusDescription: String? = nil) {
        self.status = status
        self.statusDescription = statusDescription
    }

    package init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { append(name: name, value: value) }
    }

    package var isEmpty: Bool { fields.isEmpty && status == nil }

    /// The first value of `name`: an exact match first, then one ignoring ASCII case, since
    /// peers disagree on the case of well-known names.
    package subscript(name: String) -> String? {
        get { fields.first { $0.name == name }?.value ?? fields.first { asciiCaseInsensitiveEquals($0.name, name) }?.value }
        set {
            remove(name: name)
            if let newValue { append(name: name, value: newValue) }
        }
    }

    /// Every value of `name` (case-insensitive), in order.
    package func values(for name: String) -> [String] {
        fields.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    package mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every value of `name` (case-insensitive).
    package mutating func remove(name: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
    }
}

func asciiCaseInsensitiveEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = lhs.utf8
    let right = rhs.utf8
    guard left.count == right.count else { return false }
    for (a, b) in zip(left, right) where a != b {
        guard asciiLowercased(a) == asciiLowercased(b) else { return false }
    }
    return true
}

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
}

// MARK: - Wire format

extension NATSHeaders {
    static let versionLine: [UInt8] = Array("NATS/1.0".utf8)

    /// Bytes `write(into:)` writes.
    var encodedLength: Int {
        var length = Self.versionLine.count + 2 + 2
        if let status {
            length += 1 + decimalDigitCount(status)
            if let statusDescription, !statusDescription.isEmpty { length += 1 + statusDescription.utf8.count }
        }
        for field in fields { length += field.name.utf8.count + 2 + field.value.utf8.count + 2 }
        return length
    }

    /// Throws when a name or value would break the block's framing.
    func validateForSending() throws(NATSError) {
        for field in fields {
            guard !field.name.isEmpty,
                field.name.utf8.allSatisfy({ $0 > 32 && $0 != UInt8(ascii: ":") && $0 < 127 })
            else { throw NATSError.invalidHeader("header name \(field.name.debugDescription)") }
            guard !field.value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
                throw NATSError.invalidHeader("value of \(field.name) contains CR or LF")
            }
        }
        if let statusDescription, statusDescription.utf8.contains(where: { $0 == 13 || $0 == 10 }) {
            throw NATSError.invalidHeader("status description contains CR or LF")
        }
        if let status, !(0...999).contains(status) { throw NATSError.invalidHeader("status \(status)") }
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Self.versionLine)
        if let status {
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeDecimal(status)
            if let statusDescription, !statusDescription.isEmpty {
                buffer.writeInteger(UInt8(ascii: " "))
                buffer.writeString(statusDescription)
            }
        }
        buffer.writeCRLF()
        for field in fields {
            buffer.writeString(field.name)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(field.value)
            buffer.writeCRLF()
        }
        buffer.writeCRLF()
    }

    /// Parses a complete header block (status line, fields, blank line).
    package static func parse(_ block: ByteBuffer) throws(NATSProtocolError) -> NATSHeaders {
        let result: Result<NATSHeaders, NATSProtocolError> = block.withUnsafeReadableBytes { bytes in
            do throws(NATSProtocolError) {
                return .success(try parse(bytes: bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func parse(bytes: UnsafeRawBufferPointer) throws(NATSProtocolError) -> NATSHeaders {
        var lines = CRLFLines(bytes: bytes)
        guard let statusLine = lines.next() else { throw .malformedHeaders("no status line") }
        guard statusLine.count >= versionLine.count, statusLine.prefix(versionLine.count).elementsEqual(versionLine) else {
            throw .malformedHeaders("status line does not start with NATS/1.0")
        }
        var headers = NATSHeaders()
        let rest = statusLine.dropFirst(versionLine.count)
        if !rest.isEmpty {
            guard rest.first == UInt8(ascii: " ") || rest.first == UInt8(ascii: "\t") else {
                throw .malformedHeaders("junk after NATS/1.0")
            }
            let trimmed = rest.trimmingSpaces()
            if !trimmed.isEmpty {
                let codeEnd = trimmed.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ?? trimmed.endIndex
                let code = trimmed[trimmed.startIndex..<codeEnd]
                guard code.count == 3, let status = parseDecimal(code) else {
                    throw .malformedHeaders("bad status code")
                }
                headers.status = status
                let description = trimmed[codeEnd...].trimmingSpaces()
                if !description.isEmpty { headers.statusDescription = String(decoding: description, as: UTF8.self) }
            }
        }
        var sawBlankLine = false
        while let line = lines.next() {
            if line.isEmpty {
                sawBlankLine = true
                break
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformedHeaders("header line without a colon")
            }
            let name = line[line.startIndex..<colon].trimmingSpaces()
            guard !name.isEmpty else { throw .malformedHeaders("empty header name") }
            let value = line[(colon + 1)...].trimmingSpaces()
            headers.append(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
        guard sawBlankLine, lines.isAtEnd else { throw .malformedHeaders("header block does not end with an empty line") }
        return headers
    }
}

/// Splits bytes into CRLF-terminated lines; an unterminated remainder is not a line.
private struct CRLFLines {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    var isAtEnd: Bool { position == bytes.count }

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        var index = position
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 {
                let line = bytes[position..<index]
                position = index + 2
                return line
            }
            index += 1
        }
        return nil
    }
}

extension Slice where Base == UnsafeRawBufferPointer {
    func trimmingSpaces() -> Slice<UnsafeRawBufferPointer> {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == UInt8(ascii: " ") || self[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, self[end - 1] == UInt8(ascii: " ") || self[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        return self[start..<end]
    }
}
