import Foundation

/// A blocking FIFO with a fixed capacity between two pipeline stages. `push` blocks while
/// the queue is full (backpressure: a slow stage stops its producers instead of letting
/// volumes pile up in memory); `pop` blocks while it is empty and returns nil once the
/// queue is closed and drained. Time spent blocked is accumulated for run-summary.json.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    let capacity: Int
    /// Seconds consumers waited for an item / producers waited for room.
    private(set) var popWaitSeconds: Double = 0
    private(set) var pushWaitSeconds: Double = 0
    private(set) var peakCount = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int {
        condition.lock(); defer { condition.unlock() }
        return items.count - head
    }

    func push(_ element: Element) {
        condition.lock()
        let start = monotonicSeconds()
        while items.count - head >= capacity && !closed { condition.wait() }
        pushWaitSeconds += monotonicSeconds() - start
        items.append(element)
        peakCount = max(peakCount, items.count - head)
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        let start = monotonicSeconds()
        while items.count == head && !closed { condition.wait() }
        popWaitSeconds += monotonicSeconds() - start
        guard items.count > head else { return nil }
        let element = items[head]
        head += 1
        if head > 64 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        condition.broadcast()
        return element
    }

    /// No more pushes; consumers drain what is left, then get nil.
    func close() {
        condition.lock(); closed = true; condition.broadcast(); condition.unlock()
    }

    var waits: (pop: Double, push: Double) {
        condition.lock(); defer { condition.unlock() }
        return (popWaitSeconds, pushWaitSeconds)
    }
}

/// Monotonic clock in seconds.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
