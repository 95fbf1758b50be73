/// One part of a (possibly dotted) key, where it was written.
package struct TOMLKeyPart {
    package let name: String
    package let position: TOMLPosition

    package init(name: String, position: TOMLPosition) {
        self.name = name
        self.position = position
    }
}

/// A table while the document is being read. Tables that headers and dotted keys can still add to
/// live here; finished values (scalars, static arrays, inline tables) are stored frozen. `origin`
/// carries TOML's redefinition rules.
package final class MutableTable {
    package enum Origin {
        /// The document itself.
        case document
        /// Made as the parent of a header (`a` for `[a.b]`): a later `[a]` may still define it.
        case implicit
        /// Defined by `[header]` or as an element of `[[header]]`.
        case header
        /// Made by a dotted key (`a.b = 1` makes `a`): dotted keys may add to it, headers may not
        /// name it (though they may define tables below it).
        case dotted
    }

    package enum Content {
        case value(TOMLValue)
        case table(MutableTable)
        case arrayOfTables(ArrayOfTables)
    }

    package struct Slot {
        package let key: String
        package var keyPosition: TOMLPosition
        package var content: Content

        package init(key: String, keyPosition: TOMLPosition, content: Content) {
            self.key = key
            self.keyPosition = keyPosition
            self.content = content
        }
    }

    package var origin: Origin
    package var position: TOMLPosition
    package private(set) var slots: [Slot] = []
    private var indexByKey: [String: Int] = [:]

    package init(origin: Origin, position: TOMLPosition) {
        self.origin = origin
        self.position = position
    }

    package func slot(_ key: String) -> Slot? { indexByKey[key].map { slots[$0] } }

    package func insert(_ key: String, at keyPosition: TOMLPosition, _ content: Content) {
        indexByKey[key] = slots.count
        slots.append(Slot(key: key, keyPosition: keyPosition, content: content))
    }

    package func moveKey(_ key: String, to keyPosition: TOMLPosition) {
        if let index = indexByKey[key] { slots[index].keyPosition = keyPosition }
    }

    package func frozen() -> TOMLTable {
        TOMLTable(position: position, entries: slots.map { slot in
            let value: TOMLValue
            switch slot.content {
            case .value(let finished): value = finished
            case .table(let table): value = TOMLValue(.table(table.frozen()), at: table.position)
            case .arrayOfTables(let array):
                value = TOMLValue(.array(array.elements.map { TOMLValue(.table($0.frozen()), at: $0.position) }), at: array.position)
            }
            return TOMLTable.Entry(key: slot.key, keyPosition: slot.keyPosition, value: value)
        }, indexByKey: indexByKey)
    }
}

/// The elements `[[header]]` lines have added so far; each new header appends one.
package final class ArrayOfTables {
    package let position: TOMLPosition
    package private(set) var elements: [MutableTable]

    package init(first: MutableTable) {
        position = first.position
        elements = [first]
    }

    package func append(_ table: MutableTable) { elements.append(table) }

    /// Headers below `[[a]]` (such as `[a.b]`) belong to its latest element.
    package var last: MutableTable { elements[elements.count - 1] }
}

/// TOML's rules for where a header or a key may define something, with messages that say what was
/// there before and where.
package enum TOMLDefinitions {
    /// `[a.b.c]`: defines table `c`, making `a` and `b` if needed. Returns the new table.
    package static func defineTable(_ parts: [TOMLKeyPart], header: TOMLPosition, in root: MutableTable) throws(TOMLError) -> MutableTable {
        let parent = try headerParent(parts, in: root)
        let last = parts[parts.count - 1]
        var path: String { display(parts.map(\.name)) }
        guard let existing = parent.slot(last.name) else {
            let table = MutableTable(origin: .header, position: header)
            parent.insert(last.name, at: last.position, .table(table))
            return table
        }
        switch existing.content {
        case .table(let table) where table.origin == .implicit:
            // `[a.b]` then `[a]`: the first explicit definition of `a`.
            table.origin = .header
            table.position = header
            parent.moveKey(last.name, to: last.position)
            return table
        case .table(let table) where table.origin == .dotted:
            throw TOMLError("table [\(path)] is already defined by dotted keys at line \(existing.keyPosition.line); "
                            + "a table made by dotted keys cannot also have a [header]", at: last.position)
        case .table(let table):
            throw TOMLError("table [\(path)] is defined twice (first at line \(table.position.line))", at: last.position)
        case .arrayOfTables(let array):
            throw TOMLError("[\(path)] is an array of tables (first [[\(path)]] at line \(array.position.line)); "
                            + "add an element with [[\(path)]]", at: last.position)
        case .value(let value):
            throw TOMLError("key '\(path)' is already defined as \(describe(value)) at line \(existing.keyPosition.line)",
                            at: last.position)
        }
    }

    /// `[[a.b.c]]`: appends a new table to the array of tables `c`, making it if needed.
    package static func appendTable(_ parts: [TOMLKeyPart], header: TOMLPosition, in root: MutableTable) throws(TOMLError) -> MutableTable {
        let parent = try headerParent(parts, in: root)
        let last = parts[parts.count - 1]
        var path: String { display(parts.map(\.name)) }
        let element = MutableTable(origin: .header, position: header)
        guard let existing = parent.slot(last.name) else {
            parent.insert(last.name, at: last.position, .arrayOfTables(ArrayOfTables(first: element)))
            return element
        }
        switch existing.content {
        case .arrayOfTables(let array):
            array.append(element)
            return element
        case .table:
            throw TOMLError("[[\(path)]] cannot add an element: '\(path)' is already a table (line \(existing.keyPosition.line))",
                            at: last.position)
        case .value(let value):
            let hint = value.array != nil ? ", and an array written with [...] cannot be extended with [[\(path)]]" : ""
            throw TOMLError("key '\(path)' is already defined as \(describe(value)) at line \(existing.keyPosition.line)\(hint)",
                            at: last.position)
        }
    }

    /// The table a header's last key goes into: every earlier key names a table (made implicitly
    /// if missing) or an array of tables (its latest element).
    private static func headerParent(_ parts: [TOMLKeyPart], in root: MutableTable) throws(TOMLError) -> MutableTable {
        var table = root
        for (depth, part) in parts.dropLast().enumerated() {
            guard let existing = table.slot(part.name) else {
                let made = MutableTable(origin: .implicit, position: part.position)
                table.insert(part.name, at: part.position, .table(made))
                table = made
                continue
            }
            switch existing.content {
            case .table(let inner): table = inner
            case .arrayOfTables(let array): table = array.last
            case .value(let value):
                throw notATable(value, path: display(parts.prefix(depth + 1).map(\.name)), line: existing.keyPosition.line,
                                at: part.position)
            }
        }
        return table
    }

    /// `a.b.c = value` in `scope` (the current header's table, or an inline table being read):
    /// `a` and `b` are tables made or extended by dotted keys; `c` must be new.
    package static func defineValue(_ parts: [TOMLKeyPart], _ value: TOMLValue, in scope: MutableTable, scopePath: [String]) throws(TOMLError) {
        var table = scope
        for (depth, part) in parts.dropLast().enumerated() {
            var path: String { display(scopePath + parts.prefix(depth + 1).map(\.name)) }
            guard let existing = table.slot(part.name) else {
                let made = MutableTable(origin: .dotted, position: part.position)
                table.insert(part.name, at: part.position, .table(made))
                table = made
                continue
            }
            switch existing.content {
            case .table(let inner) where inner.origin == .dotted || inner.origin == .implicit:
                // An implicit table extended by dotted keys can no longer get a header of its own.
                inner.origin = .dotted
                table = inner
            case .table(let inner):
                throw TOMLError("dotted keys cannot add to table [\(path)], which is defined by its header at line "
                                + "\(inner.position.line); write the key under [\(path)] instead", at: part.position)
            case .arrayOfTables(let array):
                throw TOMLError("dotted keys cannot add to '\(path)', an array of tables (first [[\(path)]] at line "
                                + "\(array.position.line))", at: part.position)
            case .value(let value):
                throw notATable(value, path: path, line: existing.keyPosition.line, at: part.position)
            }
        }
        let last = parts[parts.count - 1]
        if let existing = table.slot(last.name) {
            let path = display(scopePath + parts.map(\.name))
            throw TOMLError("key '\(path)' is defined twice (first at line \(existing.keyPosition.line))", at: last.position)
        }
        table.insert(last.name, at: last.position, .value(value))
    }

    private static func notATable(_ value: TOMLValue, path: String, line: Int, at position: TOMLPosition) -> TOMLError {
        if value.table != nil {
            return TOMLError("inline table '\(path)' (line \(line)) cannot be extended: an inline table is complete as written",
                             at: position)
        }
        return TOMLError("key '\(path)' is \(describe(value)) (line \(line)), not a table", at: position)
    }

    package static func describe(_ value: TOMLValue) -> String {
        switch value.kind {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .offsetDateTime: "an offset date-time"
        case .localDateTime: "a local date-time"
        case .localDate: "a local date"
        case .localTime: "a local time"
        case .array: "an array"
        case .table: "an inline table"
        }
    }

    /// `text` as a TOML basic string: quoted, with quotes, backslashes and control characters escaped.
    package static func basicString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    quoted += "\\u00" + TOMLSource.hex(UInt8(scalar.value))
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }

    /// A key path as it could be written in TOML: bare parts as they are, others quoted.
    package static func display(_ parts: [String]) -> String {
        parts.map { part in
            let bare = !part.isEmpty && part.utf8.allSatisfy(TOMLParser.isBareKeyByte)
            if bare { return part }
            return basicString(part)
        }.joined(separator: ".")
    }
}
