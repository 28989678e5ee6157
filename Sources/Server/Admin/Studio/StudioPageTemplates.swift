extension AdminTemplates {
    /// The flows list (`flows`, `deleted`, `starters`, `notice`, `setHasErrors`).
    static let flows = #"""
        <section class="card">
          <h1>Flows</h1>
          {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
          {{#setHasErrors}}<p class="error" role="alert">The flow files have errors: the server keeps running the last set that had none. Open the flows marked below to fix them.</p>{{/setHasErrors}}
          <table class="list flows">
            <thead><tr><th>Flow</th><th>On</th><th>Priority</th><th>State</th><th>Check</th><th title="in the last 7 days">Ran / skipped (7 days)</th><th>Last change</th></tr></thead>
            <tbody>
            {{#flows}}
            <tr{{^enabled}} class="disabled"{{/enabled}}>
              <td><a href="/admin/flows/{{file}}">{{name}}</a><div class="muted">{{file}}{{#description}} · {{description}}{{/description}}</div></td>
              <td>{{triggers}}</td>
              <td>{{priority}}</td>
              <td>{{#enabled}}on{{/enabled}}{{^enabled}}off{{/enabled}}</td>
              <td>{{#ok}}<span class="check-ok">✓ valid</span>{{/ok}}{{^ok}}<span class="check-bad">{{errors}} error(s), {{warnings}} warning(s)</span>{{/ok}}</td>
              <td>{{#tracesHref}}<a href="{{tracesHref}}" title="the traces of this flow in the last 7 days">{{ran}} / {{skipped}}</a>{{/tracesHref}}{{^tracesHref}}{{ran}} / {{skipped}}{{/tracesHref}}</td>
              <td>{{#changedBy}}<time title="{{changedAtFull}}">{{changedAt}}</time> by {{changedBy}}{{/changedBy}}{{^changedBy}}<span class="muted">not changed in the panel</span>{{/changedBy}}</td>
            </tr>
            {{/flows}}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h2>New flow</h2>
          <form method="get" action="/admin/flows/new" class="inline">
            <label>Start from
              <select name="starter">{{#starters}}<option value="{{id}}">{{title}}</option>{{/starters}}</select>
            </label>
            <button type="submit">Open the editor</button>
          </form>
        </section>
        {{#hasDeleted}}
        <section class="card">
          <h2>Deleted flows</h2>
          <ul class="plain">
          {{#deleted}}
            <li>{{file}} <span class="muted">deleted {{at}} by {{by}}</span>
              <a href="/admin/flows/{{file}}/history">history</a>
              <form method="post" action="/admin/flows/{{file}}/undelete" class="inline">
                <input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Bring back</button>
              </form>
            </li>
          {{/deleted}}
          </ul>
        </section>
        {{/hasDeleted}}
        """#

    /// The editor. Ids `studio-editor`, `flow-content`, `line-numbers`, `diagnostics` and
    /// `check-summary` are the script's.
    static let flowEditor = #"""
        <div class="studio" id="studio-editor" data-file="{{file}}">
          <section class="card editor-main">
            <h1>{{file}}{{#isNew}} <span class="muted">(new)</span>{{/isNew}}</h1>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
            {{#conflict}}
            <div class="conflict">
              <h2>What the file holds now</h2>
              <pre class="code">{{theirs}}</pre>
              <h2>Their version against yours</h2>
              <pre class="diff">{{#diff}}<span class="diff-{{kind}}">{{sign}} {{text}}</span>
        {{/diff}}</pre>
              <p>Saving again puts your version in place of theirs (theirs stays in the history).</p>
            </div>
            {{/conflict}}
            {{#hasTestFailures}}<h2>Flow tests that would fail</h2>{{/hasTestFailures}}
            <ul class="test-failures">
            {{#testFailures}}
              <li><code>{{where}}</code> {{test}}{{#step}}, step {{step}}{{/step}} {{message}}
                {{#step}}<div>expected:</div><pre class="code">{{#expected}}- {{.}}
        {{/expected}}{{^expected}}nothing{{/expected}}</pre>{{/step}}
                {{#step}}<div>actual:</div><pre class="code">{{#actual}}- {{.}}
        {{/actual}}{{^actual}}nothing{{/actual}}</pre>{{/step}}
                {{#differenceText}}<pre class="code">{{differenceText}}</pre>{{/differenceText}}
                {{#noteText}}<div class="muted">{{noteText}}</div>{{/noteText}}
              </li>
            {{/testFailures}}
            </ul>
            <form method="post" action="{{action}}" class="editor-form">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <input type="hidden" name="base_hash" value="{{baseHash}}">
              {{#isNew}}<input type="hidden" name="is_new" value="1"><label>File name <input name="name" value="{{file}}" maxlength="64" pattern="[a-z0-9][a-z0-9_-]*\.ya?ml" required></label>{{/isNew}}
              {{^isNew}}<input type="hidden" name="name" value="{{file}}">{{/isNew}}
              <div class="code-editor">
                <pre class="line-numbers" id="line-numbers" aria-hidden="true">{{lineNumbers}}</pre>
                <textarea name="content" id="flow-content" spellcheck="false" autocapitalize="off" autocomplete="off" wrap="off" aria-label="The flow's YAML">{{content}}</textarea>
              </div>
              <label>Comment <input name="comment" value="{{comment}}" maxlength="500" placeholder="what changed and why"></label>
              <details class="try-it"{{#tryOpen}} open{{/tryOpen}}>
                <summary>Try it on an event (nothing is sent)</summary>
                {{#try}}
                <div class="try-fields">
                  <label>Event <select name="try_kind">{{#kinds}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/kinds}}</select></label>
                  <label>User id <input name="try_user_id" value="{{userID}}" maxlength="128"></label>
                  <label>Name <input name="try_user_name" value="{{userName}}" maxlength="256"></label>
                  <label>Text <input name="try_text" value="{{text}}" maxlength="4000"></label>
                  <label>Media <select name="try_media">{{#media}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/media}}</select></label>
                  <label>When <input type="datetime-local" name="try_at" value="{{at}}"></label>
                  <label>Time zone <input name="try_timezone" value="{{timeZone}}" maxlength="64"></label>
                  <label>Auto mode <select name="try_auto_mode"><option value="on"{{#autoOn}} selected{{/autoOn}}>on</option><option value="off"{{^autoOn}} selected{{/autoOn}}>off</option></select></label>
                  <label>The AI's answer <input name="try_answer" value="{{answer}}" maxlength="4000"></label>
                  <label>The transcript <input name="try_transcript" value="{{transcript}}" maxlength="4000"></label>
                </div>
                <label>Or paste an event file (as for <code>replyflow dry-run</code>)
                  <textarea name="try_event" rows="4" spellcheck="false">{{eventFile}}</textarea></label>
                {{/try}}
                <button type="submit" formaction="/admin/flows/try" formnovalidate>Try the draft</button>
                {{#tryError}}<p class="error" role="alert">{{tryError}}</p>{{/tryError}}
                <ul class="diagnostics">{{#tryProblems}}<li class="{{severity}}">event:{{where}} {{severity}}: {{message}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</li>{{/tryProblems}}</ul>
                {{#tried}}
                <div class="tried" id="try-outcome">
                  <p>Trigger: <code>{{trigger}}</code>{{#note}} · {{note}}{{/note}}</p>
                  <ul>{{#flows}}<li><strong>{{name}}</strong>: {{result}}{{#reason}}, {{reason}}{{/reason}}{{#variant}} (variant {{variant}}){{/variant}}</li>{{/flows}}</ul>
                  <h3>What it would do</h3>
                  {{#noActions}}<p class="muted">Nothing.</p>{{/noActions}}
                  <ol>{{#actions}}<li><code>{{type}}</code>{{#title}} “{{title}}”{{/title}}{{#text}}: {{text}}{{/text}}{{#value}}: {{value}}{{/value}} <span class="muted">({{flow}})</span></li>{{/actions}}</ol>
                </div>
                <div class="save-test">
                  <label>Test file in flows/tests <input name="test_file" value="{{testFile}}" list="test-files" maxlength="64"></label>
                  <datalist id="test-files">{{#testFiles}}<option value="{{.}}">{{/testFiles}}</datalist>
                  <label>Test name (for a new file) <input name="test_name" value="{{testName}}" maxlength="200"></label>
                  <button type="submit" formaction="/admin/flows/try/save-test" formnovalidate>Save as test</button>
                  <span class="muted">The event and what the draft did become a step the flow tests check from now on.</span>
                </div>
                {{/tried}}
              </details>
              <details class="compare"{{#compareOpen}} open{{/compareOpen}}>
                <summary>What would change on real conversations (nothing is sent)</summary>
                <p class="muted">The customers' messages, history fetches and staff replies the server stored, run through the live flows and through this draft, each from empty state, side by side.</p>
                <label>Days back <input type="number" name="compare_days" value="{{compareDays}}" min="1" max="30"></label>
                <button type="submit" formaction="/admin/flows/compare" formnovalidate>Compare with the live flows</button>
                {{#compareError}}<p class="error" role="alert">{{compareError}}</p>{{/compareError}}
                {{#compared}}
                <div class="compared" id="compare-outcome">
                  <p>{{summary}}</p>
                  {{#truncated}}<p class="muted">Only the first {{truncated}} events of the window were compared: choose fewer days, or compare all of them with <code>replyflow replay --compare</code>.</p>{{/truncated}}
                  <table class="compare-counts">
                    <thead><tr><th>What</th><th>Live</th><th>Draft</th><th>Change</th></tr></thead>
                    <tbody>{{#actions}}<tr data-action="{{type}}"><td>{{label}}</td><td>{{live}}</td><td>{{draft}}</td><td class="change-{{changeClass}}">{{change}}</td></tr>{{/actions}}</tbody>
                  </table>
                  {{#flows}}
                  <h3>{{flow}}: {{events}} event(s) would come out differently</h3>
                  <table class="compare-examples">
                    <thead><tr><th>When</th><th>Who</th><th>Wrote</th><th>Before</th><th>With the draft</th></tr></thead>
                    <tbody>
                    {{#examples}}<tr>
                      <td title="{{atFull}}">{{at}}<div class="muted">{{kind}}</div></td><td>{{user}}</td><td>{{text}}</td>
                      <td>{{#before}}<div>{{.}}</div>{{/before}}{{^before}}<span class="muted">nothing ({{beforeResult}})</span>{{/before}}</td>
                      <td>{{#after}}<div>{{.}}</div>{{/after}}{{^after}}<span class="muted">nothing ({{afterResult}})</span>{{/after}}</td>
                    </tr>{{/examples}}
                    </tbody>
                  </table>
                  {{#more}}<p class="muted">… and {{more}} more.</p>{{/more}}
                  {{/flows}}
                </div>
                {{/compared}}
              </details>
              <div class="actions">
                <button type="submit">Save</button>
                <button type="submit" formaction="/admin/flows/tests" formnovalidate>Run the flow tests on the draft</button>
                {{^isNew}}<a href="/admin/flows/{{file}}/history">History</a>{{/isNew}}
                {{#tracesHref}}<a href="{{tracesHref}}">Traces</a>{{/tracesHref}}
                <a href="/admin/flows">Back to the flows</a>
              </div>
            </form>
            <h2>Check <span id="check-summary" class="muted">{{checkSummary}}</span></h2>
            <ul id="diagnostics" class="diagnostics">
            {{#diagnostics}}
              <li class="{{severity}}"><a href="#flow-content" data-line="{{line}}" data-column="{{column}}" data-this-file="{{inThisFile}}">{{file}}:{{line}}:{{column}}</a> {{severity}}: {{message}}{{#hint}} <span class="hint">({{hint}})</span>{{/hint}}</li>
            {{/diagnostics}}
            </ul>
            {{^isNew}}
            <form method="post" action="/admin/flows/{{file}}/delete" class="inline delete-flow">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <button type="submit" data-confirm="Delete {{file}}? Its history is kept and it can be brought back.">Delete this flow</button>
            </form>
            {{/isNew}}
          </section>
          <aside class="card reference">
            <h2>The language</h2>
            {{#reference}}
            <details>
              <summary>{{title}}</summary>
              <dl>{{#entries}}<dt><code>{{name}}</code></dt><dd>{{meaning}}<pre class="code">{{example}}</pre></dd>{{/entries}}</dl>
            </details>
            {{/reference}}
          </aside>
        </div>
        """#

    /// A flow's versions (`file`, `versions`, `exists`, `isDeleted`).
    static let flowHistory = #"""
        <section class="card">
          <h1>History of {{file}}</h1>
          {{#isDeleted}}<p class="notice">This flow is deleted.
            <form method="post" action="/admin/flows/{{file}}/undelete" class="inline"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit">Bring it back</button></form></p>{{/isDeleted}}
          <table class="list">
            <thead><tr><th>Version</th><th>Change</th><th>By</th><th>When</th><th>Comment</th><th></th></tr></thead>
            <tbody>
            {{#versions}}
            <tr>
              <td>{{id}}{{#isCurrent}} <span class="badge">now</span>{{/isCurrent}}</td>
              <td>{{change}}</td>
              <td>{{author}}</td>
              <td><time title="{{atFull}}">{{at}}</time></td>
              <td>{{comment}}</td>
              <td>
                {{#diffHref}}<a href="{{diffHref}}">changes</a>{{/diffHref}}
                {{#currentDiffHref}}<a href="{{currentDiffHref}}">against now</a>{{/currentDiffHref}}
                {{#hasContent}}{{^isCurrent}}
                <form method="post" action="/admin/flows/{{file}}/restore" class="inline">
                  <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="version" value="{{id}}">
                  <button type="submit" data-confirm="Put version {{id}} back? The file as it is now is kept in the history.">Restore</button>
                </form>
                {{/isCurrent}}{{/hasContent}}
              </td>
            </tr>
            {{/versions}}
            {{^versions}}<tr><td colspan="6" class="muted">No versions yet: the first save in the panel records the file as it was, then the change.</td></tr>{{/versions}}
            </tbody>
          </table>
          <p>{{#exists}}<a href="/admin/flows/{{file}}">Open the editor</a> · {{/exists}}<a href="/admin/flows">Back to the flows</a></p>
        </section>
        """#

    /// The flow tests' results (`files`, `summary`, `flowErrors`, `draftFile`).
    static let flowTests = #"""
        <section class="card">
          <h1>Flow tests{{#draftFile}} <span class="muted">with the draft of {{draftFile}}</span>{{/draftFile}}</h1>
          {{#flowErrors}}<p class="error">{{file}}:{{line}}:{{column}} {{message}}{{#hint}} ({{hint}}){{/hint}}</p>{{/flowErrors}}
          {{#summary}}<p id="tests-summary">{{summary}}</p>{{/summary}}
          {{#noTests}}<p class="muted">There are no flow tests yet: add YAML test files in the flows folder's tests/ (see the README).</p>{{/noTests}}
          <ul class="test-results">
          {{#files}}
            <li class="{{#passed}}passed{{/passed}}{{^passed}}failed{{/passed}}">{{#passed}}<span class="check-ok">PASS</span>{{/passed}}{{^passed}}<span class="check-bad">FAIL</span>{{/passed}} {{test}} <span class="muted">{{file}}</span>
              <ul class="test-failures">
              {{#failures}}
                <li><code>{{where}}</code>{{#step}} step {{step}}{{/step}} {{message}}
                  {{#step}}<div>expected:</div><pre class="code">{{#expected}}- {{.}}
        {{/expected}}{{^expected}}nothing{{/expected}}</pre><div>actual:</div><pre class="code">{{#actual}}- {{.}}
        {{/actual}}{{^actual}}nothing{{/actual}}</pre>{{/step}}
                  {{#differenceText}}<pre class="code">{{differenceText}}</pre>{{/differenceText}}
                  {{#noteText}}<div class="muted">{{noteText}}</div>{{/noteText}}
                </li>
              {{/failures}}
              </ul>
            </li>
          {{/files}}
          </ul>
          <p><a href="/admin/flows">Back to the flows</a></p>
        </section>
        """#

    /// A line diff between two versions (`from`, `to`, `lines`, `added`, `removed`, `same`).
    static let flowDiff = #"""
        <section class="card">
          <h1>{{file}}: {{from}} → {{to}}</h1>
          <p class="muted">{{#same}}The two are the same.{{/same}}{{^same}}{{added}} line(s) added, {{removed}} removed.{{/same}}</p>
          <table class="diff-table">
            {{#lines}}<tr class="diff-{{kind}}"><td class="num">{{old}}</td><td class="num">{{new}}</td><td class="sign">{{sign}}</td><td><pre>{{text}}</pre></td></tr>
            {{/lines}}
          </table>
          <p><a href="/admin/flows/{{file}}/history">Back to the history</a></p>
        </section>
        """#
}
