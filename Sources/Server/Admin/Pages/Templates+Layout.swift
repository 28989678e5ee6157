extension AdminTemplates {
    /// Every page's frame. No inline script or style (the Content-Security-Policy forbids
    /// them); scripts read what they need from `data-*` attributes and the csrf-token meta.
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#layout.signedIn}}<meta name="csrf-token" content="{{layout.csrfToken}}">{{/layout.signedIn}}
        <title>{{layout.title}} · Replyflow</title>
        <link rel="stylesheet" href="{{layout.cssURL}}">
        <script src="{{layout.jsURL}}" defer></script>
        {{#layout.scripts}}<script src="{{url}}" defer></script>
        {{/layout.scripts}}
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="/admin">Replyflow</a>
          {{#layout.signedIn}}
          <nav>
            <a href="/admin">Inbox</a>
            {{#layout.isEditor}}<a href="/admin/flows">Flows</a>
            <a href="/admin/traces">Traces</a>
            <a href="/admin/experiments">Experiments</a>{{/layout.isEditor}}
            {{#layout.isAdmin}}<a href="/admin/users">Users</a>
            <a href="/admin/audit">Audit</a>{{/layout.isAdmin}}
          </nav>
          <span class="who"><span class="who-name">{{layout.username}}</span> <span class="who-role">{{layout.role}}</span></span>
          <form class="logout" method="post" action="/admin/logout">
            <input type="hidden" name="_csrf" value="{{layout.csrfToken}}">
            <button type="submit">Log out</button>
          </form>
          {{/layout.signedIn}}
        </header>
        <main>
        <!-- page -->
        </main>
        </body>
        </html>

        """
}
