extension AdminTemplates {
    static let login = """
        <section class="card narrow">
          <h1>Sign in</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/admin/login">
            <input type="hidden" name="next" value="{{next}}">
            <label>User name <input name="username" autocomplete="username" value="{{username}}" required autofocus></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
            <button type="submit">Sign in</button>
          </form>
        </section>
        """
}
