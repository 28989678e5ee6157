extension AdminTemplates {
    /// A stand-in until the inbox (issue 15, point 3) replaces it.
    static let inboxPlaceholder = """
        <section class="card">
          <h1>Inbox</h1>
          <p>Signed in as {{layout.username}}. The conversations will be listed here.</p>
        </section>
        """
}
