import Foundation

/// Output folder names. Never built from raw DICOM values: the name is the series'
/// content-derived id (kept only if it is already plain hex/alphanumeric, else hashed),
/// optionally behind a short prefix that is sanitised to `[a-z0-9]` and cut to 8 characters.
public enum SafeNames {
    /// `prefix-id` (or `id`), at most 8 + 1 + 64 characters of `[a-z0-9-]`, never `.` or `..`.
    public static func studyFolder(seriesID: String, prefix: String? = nil) -> String {
        let id: String
        let plain = seriesID.unicodeScalars.allSatisfy {
            ($0 >= "0" && $0 <= "9") || ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z")
        }
        if plain && !seriesID.isEmpty && seriesID.count <= 64 {
            id = seriesID.lowercased()
        } else {
            // Anything else (slashes, dots, NULs, too long) is replaced by its digest.
            id = String(SHA256.hexDigest(Array(seriesID.utf8)).prefix(32))
        }
        guard let prefix else { return id }
        let cleaned = String(prefix.lowercased().unicodeScalars
            .filter { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }
            .prefix(8).map(Character.init))
        return cleaned.isEmpty ? id : "\(cleaned)-\(id)"
    }
}
