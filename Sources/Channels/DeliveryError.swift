import Foundation

/// A failed call to an outside service, classified for the outbox that retries deliveries.
///
/// The clients in this module never retry on their own: they make one attempt and, when it
/// fails, throw a `DeliveryError` whose ``disposition`` says what the caller should do next.
public struct DeliveryError: Error, Sendable, CustomStringConvertible {
    /// What the caller should do with the delivery that failed.
    public enum Disposition: Sendable, Equatable {
        /// A passing problem (rate limit, server error, timeout, network). Try again later;
        /// when `after` is set, the service asked to wait at least that long.
        case retry(after: Duration?)
        /// The recipient no longer exists (for example an unregistered FCM token). Remove it and
        /// do not try again.
        case dropRecipient
        /// The request itself is wrong or not allowed (bad parameters, forbidden, bad credentials).
        /// Retrying the same request will not help.
        case fail
    }

    /// What the caller should do next.
    public var disposition: Disposition
    /// A one-line human readable explanation, including the service's own message when it sent one.
    public var description: String
    /// The HTTP status code of the response, when there was a response.
    public var httpStatus: Int?
    /// The service's own error code when it sent one (FCM `errorCode`/`status`, OAuth2 `error`).
    public var serviceCode: String?

    /// Creates a classified delivery error.
    public init(_ disposition: Disposition, _ description: String, httpStatus: Int? = nil, serviceCode: String? = nil) {
        self.disposition = disposition
        self.description = description
        self.httpStatus = httpStatus
        self.serviceCode = serviceCode
    }

    /// Whether the caller may try the same delivery again later.
    public var isRetryable: Bool {
        if case .retry = disposition { return true }
        return false
    }

    /// The wait the service asked for, if any.
    public var retryAfter: Duration? {
        if case .retry(let after) = disposition { return after }
        return nil
    }
}

extension DeliveryError {
    /// Classifies an error thrown by the HTTP client itself (no response was received):
    /// connection refused, reset, timeout, TLS problems. All of these are worth retrying.
    static func transport(_ error: any Error, service: String) -> DeliveryError {
        if let delivery = error as? DeliveryError { return delivery }
        return DeliveryError(.retry(after: nil), "\(service): request failed before a response: \(error)")
    }
}
