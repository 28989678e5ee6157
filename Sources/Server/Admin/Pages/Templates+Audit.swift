extension AdminTemplates {
    static let audit = """
        <section class="card">
          <h1>Audit log</h1>
          <p class="muted">{{total}} entries, newest first. Read-only.</p>
          <table class="list">
            <thead><tr><th>When</th><th>Who</th><th>What</th><th>Detail</th><th>From</th></tr></thead>
            <tbody>
            {{#entries}}
            <tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td class="detail">{{detail}}</td><td>{{address}}</td></tr>
            {{/entries}}
            {{^entries}}<tr><td colspan="5">Nothing yet.</td></tr>{{/entries}}
            </tbody>
          </table>
          <nav class="pager">
            {{#hasNewer}}<a href="/admin/audit?page={{previousPage}}">Newer</a>{{/hasNewer}}
            <span>Page {{page}}</span>
            {{#hasOlder}}<a href="/admin/audit?page={{nextPage}}">Older</a>{{/hasOlder}}
          </nav>
        </section>
        """
}
