extension AdminTemplates {
    /// The traces page (`form`, `rows`, `zone`, `empty`, `olderHref`, `newestHref`,
    /// `stopped`, `scanLimit`).
    static let traces = #"""
        <section class="card">
          <h1>Traces: why did (or didn't) it fire?</h1>
          <p>Every event the server handles leaves a row for each flow that listens to its trigger:
            <strong>ran</strong>, or <strong>skipped</strong> with the reason: the condition that failed (what came against what
            the flow wanted), its <code>once_per_user</code> period, <code>enabled: false</code>, or an earlier flow's <code>stop</code>.
            An event that ran no flow leaves one <strong>no flow</strong> row saying why: no flow listens to its trigger, or it
            fired none. A history fetch that is not the user's first of the day leaves nothing.</p>
          <form class="trace-filters" method="get" action="/admin/traces" role="search">
            <label>Flow <select name="flow">{{#form.flows}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/form.flows}}</select></label>
            <label>User id <input name="user" value="{{form.user}}" maxlength="128" placeholder="any user"></label>
            <label>Result <select name="result">{{#form.results}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/form.results}}</select></label>
            <label>Trigger <select name="trigger">{{#form.triggers}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/form.triggers}}</select></label>
            <label>When <select name="last">{{#form.periods}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/form.periods}}</select></label>
            <label>or since <input type="datetime-local" name="since" value="{{form.since}}"></label>
            <label>until <input type="datetime-local" name="until" value="{{form.until}}"></label>
            <button type="submit">Show</button>
            <a href="/admin/traces">Clear</a>
          </form>
          <p class="muted">Times in {{zone}}, newest first. The same from the command line: <code>replyflow traces --db PATH --user ID --flow NAME --since 1d</code>.</p>
        </section>
        <section class="card">
          <table class="list traces">
            <thead><tr><th>Time</th><th>Trigger</th><th>User</th><th>Flow</th><th>Result</th><th>Why</th><th>Variant</th><th>What it did</th></tr></thead>
            <tbody>
            {{#rows}}
            <tr class="trace-{{resultClass}}">
              <td><time datetime="{{atISO}}" title="{{atFull}}">{{atShort}}</time></td>
              <td>{{#trigger}}{{trigger}}{{/trigger}}{{^trigger}}<span class="muted">none</span>{{/trigger}}{{#event}}<div class="muted">{{event}}</div>{{/event}}</td>
              <td>{{#chatHref}}<a href="{{chatHref}}" title="open the chat">{{user}}</a>{{/chatHref}}{{^chatHref}}{{user}}{{/chatHref}}</td>
              <td>{{#flowHref}}<a href="{{flowHref}}" title="open the flow">{{flow}}</a>{{/flowHref}}{{^flowHref}}{{#flow}}{{flow}}{{/flow}}{{^flow}}<span class="muted">—</span>{{/flow}}{{/flowHref}}</td>
              <td class="result result-{{resultClass}}">{{result}}</td>
              <td class="detail">{{reason}}{{#note}}<div>{{note}}</div>{{/note}}</td>
              <td>{{variant}}</td>
              <td class="detail">{{#actions}}<div>{{.}}</div>{{/actions}}</td>
            </tr>
            {{/rows}}
            {{^rows}}<tr><td colspan="8" class="muted">{{empty}}</td></tr>{{/rows}}
            </tbody>
          </table>
          {{#stopped}}<p class="notice" role="status">This page read {{scanLimit}} traces without filling up: older ones may still match. Choose a flow or a user id to search all of them at once, or look further back.</p>{{/stopped}}
          <p class="pager">{{#newestHref}}<a href="{{newestHref}}">← Newest</a>{{/newestHref}}{{#olderHref}}<a href="{{olderHref}}">{{#stopped}}Look further back{{/stopped}}{{^stopped}}Older{{/stopped}} →</a>{{/olderHref}}</p>
        </section>
        """#
}

extension AdminAssets {
    /// The traces page's part of the stylesheet.
    static let tracesCSS = """
        /* The traces page. */
        .trace-filters { display: flex; flex-wrap: wrap; gap: .2rem 1rem; align-items: center; }
        .trace-filters label { margin: .2rem 0; }
        table.traces td { vertical-align: top; }
        .result-ran { color: var(--good); }
        .result-skipped { color: #8a5a00; }
        .result-no_flow { color: var(--bad); }

        """
}
