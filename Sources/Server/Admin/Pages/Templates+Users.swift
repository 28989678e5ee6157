extension AdminTemplates {
    static let users = """
        <section class="card">
          <h1>Users</h1>
          {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          <table class="list">
            <thead><tr><th>Name</th><th>Role</th><th>State</th><th>Created</th><th>Password</th></tr></thead>
            <tbody>
            {{#accounts}}
            <tr{{#disabled}} class="disabled"{{/disabled}}>
              <td class="name">{{username}}</td>
              <td>
                <form method="post" action="/admin/users/{{id}}/role" class="inline">
                  <input type="hidden" name="_csrf" value="{{csrf}}">
                  <select name="role" aria-label="Role of {{username}}">
                    {{#roles}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/roles}}
                  </select>
                  <button type="submit">Change</button>
                </form>
              </td>
              <td>
                <form method="post" action="/admin/users/{{id}}/{{#disabled}}enable{{/disabled}}{{^disabled}}disable{{/disabled}}" class="inline">
                  <input type="hidden" name="_csrf" value="{{csrf}}">
                  {{#disabled}}disabled <button type="submit">Enable</button>{{/disabled}}
                  {{^disabled}}enabled <button type="submit" data-confirm="Disable {{username}}?">Disable</button>{{/disabled}}
                </form>
              </td>
              <td>{{created}}</td>
              <td>
                <form method="post" action="/admin/users/{{id}}/password" class="inline">
                  <input type="hidden" name="_csrf" value="{{csrf}}">
                  <input type="password" name="password" autocomplete="new-password" minlength="10" placeholder="new password" aria-label="New password for {{username}}" required>
                  <button type="submit">Reset</button>
                </form>
              </td>
            </tr>
            {{/accounts}}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h2>Add a user</h2>
          <form method="post" action="/admin/users" class="stacked">
            <input type="hidden" name="_csrf" value="{{csrf}}">
            <label>User name <input name="username" maxlength="64" pattern="[A-Za-z0-9._-]+" required></label>
            <label>Role
              <select name="role">{{#allRoles}}<option value="{{.}}">{{.}}</option>{{/allRoles}}</select>
            </label>
            <label>Password <input type="password" name="password" autocomplete="new-password" minlength="10" required></label>
            <button type="submit">Add user</button>
          </form>
        </section>
        """
}
