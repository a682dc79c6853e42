import Foundation

/// The subset of JSON Schema (draft 2020-12) that docs/findings-schema.json uses:
/// type, const, enum, required, properties, additionalProperties, items, minItems,
/// maxItems, minimum, maximum, exclusiveMinimum, pattern, anyOf and local $ref.
/// Enough to check `findings.json` against the published schema inside `swift test`
/// without Python; scripts/render_reports.py also validates with python-jsonschema.
struct MiniJSONSchema {
    let root: [String: Any]

    init(contentsOf url: URL) throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// Violations as "path: problem"; empty when `value` conforms.
    func validate(_ value: Any) -> [String] {
        var errors: [String] = []
        check(value, root, "$", &errors)
        return errors
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") {
            node = (node as! [String: Any])[String(part)]!
        }
        return resolve(node as! [String: Any])
    }

    private func typeName(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if v is String { return "string" }
        if v is [Any] { return "array" }
        if v is [String: Any] { return "object" }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            return d.rounded() == d && !String(describing: n).contains(".") ? "integer" : "number"
        }
        return "unknown"
    }

    private func check(_ v: Any, _ raw: [String: Any], _ path: String, _ errors: inout [String]) {
        let s = resolve(raw)
        if let anyOf = s["anyOf"] as? [[String: Any]] {
            let ok = anyOf.contains { sub in
                var e: [String] = []
                check(v, sub, path, &e)
                return e.isEmpty
            }
            if !ok { errors.append("\(path): matches no alternative of anyOf") }
        }
        let actual = typeName(v)
        if let t = s["type"] {
            let allowed = (t as? [String]) ?? [t as! String]
            let matches = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !matches { errors.append("\(path): type \(actual), expected \(allowed)"); return }
        }
        if let c = s["const"] as? String, (v as? String) != c { errors.append("\(path): must be \"\(c)\"") }
        if let options = s["enum"] as? [String] {
            if let str = v as? String, options.contains(str) {} else { errors.append("\(path): not one of \(options)") }
        }
        if let n = v as? NSNumber, actual != "null" {
            let d = n.doubleValue
            if let m = s["minimum"] as? NSNumber, d < m.doubleValue { errors.append("\(path): \(d) < minimum \(m)") }
            if let m = s["maximum"] as? NSNumber, d > m.doubleValue { errors.append("\(path): \(d) > maximum \(m)") }
            if let m = s["exclusiveMinimum"] as? NSNumber, d <= m.doubleValue {
                errors.append("\(path): \(d) <= exclusiveMinimum \(m)")
            }
        }
        if let str = v as? String, let pattern = s["pattern"] as? String {
            let re = try! NSRegularExpression(pattern: pattern)
            if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                errors.append("\(path): \"\(str)\" does not match \(pattern)")
            }
        }
        if let array = v as? [Any] {
            if let m = s["minItems"] as? Int, array.count < m { errors.append("\(path): fewer than \(m) items") }
            if let m = s["maxItems"] as? Int, array.count > m { errors.append("\(path): more than \(m) items") }
            if let items = s["items"] as? [String: Any] {
                for (i, item) in array.enumerated() { check(item, items, "\(path)[\(i)]", &errors) }
            }
        }
        if let object = v as? [String: Any] {
            for key in (s["required"] as? [String]) ?? [] where object[key] == nil {
                errors.append("\(path): missing required key \"\(key)\"")
            }
            let properties = (s["properties"] as? [String: Any]) ?? [:]
            for (key, value) in object {
                if let sub = properties[key] as? [String: Any] {
                    check(value, sub, "\(path).\(key)", &errors)
                } else if let extra = s["additionalProperties"] {
                    if let sub = extra as? [String: Any] {
                        check(value, sub, "\(path).\(key)", &errors)
                    } else if (extra as? Bool) == false || (extra as? NSNumber)?.boolValue == false {
                        errors.append("\(path): unexpected key \"\(key)\"")
                    }
                }
            }
        }
    }
}
