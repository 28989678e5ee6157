import Storage

/// The items of one outbox lane, oldest first. Taking the head is O(1): a lane can hold a
/// long backlog (a burst of messages, or an outage of the service it delivers to), and an
/// array's `removeFirst` would move the whole backlog for every delivery.
struct LaneQueue: Sendable {
    private var items: [OutboxItem] = []
    private var head = 0

    var first: OutboxItem? { head < items.count ? items[head] : nil }
    var isEmpty: Bool { head >= items.count }

    mutating func append(_ item: OutboxItem) {
        items.append(item)
    }

    /// Puts back the head after an attempt (its attempts and next time changed).
    mutating func replaceFirst(_ item: OutboxItem) {
        items[head] = item
    }

    mutating func removeFirst() {
        head += 1
        // Drop the delivered prefix once it is most of the storage.
        if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
