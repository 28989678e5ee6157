// Channels: one client per outside service.
//
// - `TelegramClient` talks to the Telegram Bot API (JSON and multipart uploads, long polling, files).
// - `TelegramText` escapes and splits text the way Telegram counts it.
// - `FCMClient` sends push notifications through FCM HTTP v1 with a service-account OAuth2 token.
// - `DeliveryError` classifies every failure so the durable outbox knows whether to retry,
//   drop the recipient or give up. The clients never retry on their own.
