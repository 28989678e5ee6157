extension AdminTemplates {
    /// Asks an admin to confirm erasing the open chat's customer (`CustomerErasureRoutes`).
    static let erase = """
        <section class="card">
          <h1>Erase {{name}}</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <p>This removes everything Replyflow stores about the {{sourceLabel}} customer {{platformChatID}}:
          their messages and uploaded photos, devices, markers, flow traces, experiment records,
          this conversation, deliveries still queued or done, and the AI's memory of the chat.
          It cannot be undone. The audit log keeps that an admin erased a customer, and the counts,
          not who it was.</p>
          {{#telegram}}<p>Messages already copied into the Telegram staff group are Telegram's: delete them there.</p>{{/telegram}}
          <form method="post" action="/admin/chats/{{id}}/erase" class="stacked">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            <label>Type <strong>{{confirmation}}</strong> to confirm <input name="confirm" autocomplete="off" required></label>
            <button type="submit" class="danger">Erase this customer</button>
          </form>
          <p><a href="/admin/chats/{{id}}">Back to the conversation</a></p>
        </section>
        """

    /// What an erasure removed.
    static let erased = """
        <section class="card">
          <h1>Customer erased</h1>
          <p class="notice" role="status">The {{sourceLabel}} customer is erased. Removed:</p>
          <table class="list">
            <thead><tr><th>What</th><th>Removed</th></tr></thead>
            <tbody>{{#counts}}<tr><td>{{kind}}</td><td>{{count}}</td></tr>{{/counts}}</tbody>
          </table>
          {{#notRemoved}}<p class="error">Could not delete {{.}}: delete it by hand.</p>{{/notRemoved}}
          {{#telegram}}<p>Messages already in the Telegram staff group stay there: delete them in Telegram.</p>{{/telegram}}
          <p><a href="/admin">Back to the inbox</a></p>
        </section>
        """
}
