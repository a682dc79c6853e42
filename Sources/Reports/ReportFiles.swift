import Foundation

/// File-system rules of the report writers: every file is written under a temporary
/// name and renamed into place, and a study folder appears only when complete.
enum ReportFiles {
    /// Prefix of folders being built; a crash can leave them behind and
    /// `StudyReportWriter.removeStaleTemporaryFolders()` deletes them.
    static let temporaryPrefix = ".tmp-"

    /// Whether `name` is a single, harmless path component: `[A-Za-z0-9._-]{1,128}`,
    /// not starting with '.' (so never "." / ".." or hidden).
    static func isSafeFolderName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 128, bytes[0] != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    /// Writes `data` to a temporary file beside `url`, flushes it to disk, and renames it
    /// over `url`, so readers see either the old file or the whole new one.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw ReportError.writeFailed(path: temporary.path, reason: "cannot create file")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ReportError.writeFailed(path: url.path, reason: String(describing: error))
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ReportError.writeFailed(path: url.path, reason: reason)
        }
    }

    /// Flushes a directory's entries (new names, renames) to disk, so a completed study
    /// survives a power loss and not only a killed process. Best effort: a file system
    /// that cannot fsync a directory is not an error.
    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func writeAtomically(_ text: String, to url: URL) throws {
        try writeAtomically(Data(text.utf8), to: url)
    }

    static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ReportError.writeFailed(path: url.path, reason: String(describing: error))
        }
    }

    /// Moves a finished temporary folder to `destination`. An older folder of the same name
    /// (a study redone) is first renamed aside and deleted afterwards, so at every moment
    /// `destination` is either the old complete report or the new complete one (plus a
    /// short window with none, which a resuming pipeline treats as "not done").
    static func publishFolder(_ temporary: URL, as destination: URL) throws {
        let fm = FileManager.default
        var previous: URL?
        if fm.fileExists(atPath: destination.path) {
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent("\(temporaryPrefix)old-\(destination.lastPathComponent)-\(UUID().uuidString)")
            if rename(destination.path, aside.path) != 0 {
                throw ReportError.writeFailed(path: destination.path, reason: String(cString: strerror(errno)))
            }
            previous = aside
        }
        if rename(temporary.path, destination.path) != 0 {
            let reason = String(cString: strerror(errno))
            if let previous { _ = rename(previous.path, destination.path) }
            throw ReportError.writeFailed(path: destination.path, reason: reason)
        }
        if let previous { try? fm.removeItem(at: previous) }
    }

    /// ISO 8601 UTC timestamp, second precision.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
