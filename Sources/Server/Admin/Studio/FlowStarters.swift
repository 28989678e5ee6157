/// What a new flow starts from in the studio: small, valid flows people change rather
/// than write from nothing. `FlowStudioTests` checks each one passes the checker beside
/// the shipped flows.
enum FlowStarters {
    struct Starter: Sendable {
        var id: String
        var title: String
        var fileName: String
        var content: String
    }

    static let all: [Starter] = [
        Starter(
            id: "greeting", title: "Greeting", fileName: "greeting.yaml",
            content: """
                # Says hello the first time a user opens the chat each day.
                name: New greeting
                description: Greet the user on the first history fetch of the day.
                on: history_first_fetch_today
                priority: 5
                once_per_user: day
                do:
                  - greet: "Hello{{#user.name}}, {{user.name}}{{/user.name}}! How can we help?"

                """),
        Starter(
            id: "after-hours", title: "After-hours reply", fileName: "after-hours.yaml",
            content: """
                # Outside working hours, tells the customer when support is back.
                name: After-hours reply
                description: Reply outside working hours that staff answer in the morning.
                on: [app_message, telegram_message, instagram_dm]
                priority: 5
                once_per_user: day
                if:
                  not: { time: { between: "09:00-18:00", days: mon-fri } }
                do:
                  - reply: "Thanks for your message! We answer on weekdays from 9:00 to 18:00."

                """),
        Starter(
            id: "keyword", title: "Keyword reply", fileName: "keyword-reply.yaml",
            content: """
                # Answers a common question when the message mentions it.
                name: Delivery question
                description: Answer questions about delivery times.
                on: [app_message, telegram_message, instagram_dm]
                priority: 5
                if:
                  text_contains: [delivery, shipping]
                do:
                  - reply: "Orders ship within 2 working days; you get a tracking number by e-mail."

                """),
        Starter(
            id: "experiment", title: "Auto-reply experiment", fileName: "reply-experiment.yaml",
            content: """
                # Compares two first replies: which one makes more customers write back?
                name: First reply test
                description: A/B test of the first reply to a new customer.
                on: [app_message, telegram_message]
                priority: 5
                if:
                  first_message: true
                experiment:
                  key: first-reply-CHANGE-ME
                  goal: { on: app_message, within: 24h }
                  variants:
                    - name: short
                      weight: 50
                      do:
                        - reply: "Thanks! We will answer soon."
                    - name: detailed
                      weight: 50
                      do:
                        - reply: "Thanks for writing! A person from support answers within an hour on weekdays."

                """),
    ]

    static func starter(id: String) -> Starter? {
        all.first { $0.id == id }
    }
}
