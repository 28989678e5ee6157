extension AdminAssets {
    /// The flow studio's script and its part of the stylesheet.
    static let studio: [AdminAsset] = [.javaScript("studio.js", studioJS)]

    static let studioCSS = #"""
        /* The flow studio: the editor beside the language reference. */
        .studio { display: grid; grid-template-columns: 1fr minmax(220px, 320px); gap: 1rem; align-items: start; }
        @media (max-width: 900px) { .studio { grid-template-columns: 1fr; } }
        .code-editor { display: grid; grid-template-columns: auto 1fr; border: 1px solid var(--line); border-radius: .3rem; max-height: 70vh; overflow: auto; }
        .code-editor .line-numbers, .code-editor textarea { font: .9rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; padding: .5rem; }
        .code-editor .line-numbers { text-align: right; color: var(--muted); background: #f6f7f9; user-select: none; border-right: 1px solid var(--line); }
        .code-editor textarea { border: 0; resize: none; min-height: 24rem; width: 100%; box-sizing: border-box; white-space: pre; overflow: hidden; tab-size: 2; }
        .diagnostics { list-style: none; padding: 0; }
        .diagnostics li { padding: .2rem 0; }
        .diagnostics li.error a, .check-bad { color: #a11; }
        .diagnostics li.warning a { color: #8a5a00; }
        .check-ok { color: #215a1c; }
        .hint, .muted { color: var(--muted); }
        pre.code, pre.diff { background: #f6f7f9; padding: .5rem; overflow: auto; border-radius: .3rem; }
        .diff-added, tr.diff-added { background: #e3f6e1; }
        .diff-removed, tr.diff-removed { background: #fbe3e3; }
        .diff-table { border-collapse: collapse; width: 100%; font: .85rem/1.4 ui-monospace, Menlo, Consolas, monospace; }
        .diff-table td { padding: 0 .4rem; vertical-align: top; }
        .diff-table td.num { color: var(--muted); text-align: right; width: 3rem; }
        .diff-table pre { margin: 0; white-space: pre-wrap; }
        .reference dl { margin: .3rem 0; }
        .reference dd { margin: 0 0 .6rem 0; font-size: .85rem; }
        .reference pre.code { margin: .2rem 0 0; font-size: .8rem; }
        ul.plain { list-style: none; padding: 0; }
        .try-it { margin: .8rem 0; }
        .try-fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .4rem .8rem; margin: .5rem 0; }
        .tried { background: #f6f7f9; border-radius: .3rem; padding: .5rem .8rem; }
        .save-test { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: end; margin: .5rem 0; }
        .compare { margin: .8rem 0; }
        .compared table { border-collapse: collapse; margin: .5rem 0; }
        .compared th, .compared td { border-bottom: 1px solid #e3e5e8; padding: .25rem .6rem; text-align: left; vertical-align: top; }
        .compare-counts td:nth-child(n+2) { text-align: right; font-variant-numeric: tabular-nums; }
        .change-more, .change-fewer { color: #8a4b00; font-weight: 600; }
        """#

    /// Checks the draft as the person types (the server's checker, through
    /// `POST /admin/api/flows/check`), keeps the line numbers in step, and moves the caret
    /// to a problem's line and column when it is clicked.
    static let studioJS = #"""
        (function () {
          var root = document.getElementById("studio-editor");
          if (!root) { return; }
          var text = document.getElementById("flow-content");
          var numbers = document.getElementById("line-numbers");
          var list = document.getElementById("diagnostics");
          var summary = document.getElementById("check-summary");
          var nameField = document.querySelector('input[name="name"]');
          var timer = null, sequence = 0;

          function lineCount() { return text.value.split("\n").length; }
          function renumber() {
            var lines = [];
            for (var i = 1; i <= lineCount(); i++) { lines.push(i); }
            numbers.textContent = lines.join("\n");
            text.style.height = "auto";
            text.style.height = text.scrollHeight + "px";
          }
          function show(diagnostics) {
            list.textContent = "";
            diagnostics.forEach(function (d) {
              var item = document.createElement("li");
              item.className = d.severity;
              var link = document.createElement("a");
              link.href = "#flow-content";
              link.dataset.line = d.line;
              link.dataset.column = d.column;
              link.dataset.thisFile = d.inThisFile ? "true" : "false";
              link.textContent = d.file + ":" + d.line + ":" + d.column;
              item.appendChild(link);
              item.appendChild(document.createTextNode(" " + d.severity + ": " + d.message));
              if (d.hint) {
                var hint = document.createElement("span");
                hint.className = "hint";
                hint.textContent = " (" + d.hint + ")";
                item.appendChild(hint);
              }
              list.appendChild(item);
            });
          }
          function check() {
            var mine = ++sequence;
            var body = new URLSearchParams();
            body.set("name", nameField ? nameField.value : root.dataset.file);
            body.set("content", text.value);
            Replyflow.fetch("/admin/api/flows/check", { method: "POST", body: body }).then(function (response) {
              return response.json().then(function (json) { return { ok: response.ok, json: json }; });
            }).then(function (result) {
              if (mine !== sequence) { return; }
              if (!result.ok) { summary.textContent = result.json.error || "could not check"; return; }
              summary.textContent = result.json.summary;
              show(result.json.diagnostics);
            }).catch(function () { if (mine === sequence) { summary.textContent = "could not reach the server to check"; } });
          }
          function goTo(line, column) {
            var lines = text.value.split("\n"), offset = 0;
            for (var i = 0; i < Math.min(line - 1, lines.length); i++) { offset += lines[i].length + 1; }
            offset += Math.max(0, column - 1);
            text.focus();
            text.setSelectionRange(offset, offset);
            var lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 18;
            text.parentElement.scrollTop = Math.max(0, (line - 3) * lineHeight);
          }
          text.addEventListener("input", function () {
            renumber();
            clearTimeout(timer);
            timer = setTimeout(check, 250);
          });
          text.addEventListener("keydown", function (event) {
            // Tab indents by two spaces (YAML forbids tabs) instead of leaving the field.
            if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
              event.preventDefault();
              var start = text.selectionStart;
              text.setRangeText("  ", start, text.selectionEnd, "end");
              text.dispatchEvent(new Event("input"));
            }
          });
          if (nameField) { nameField.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 250); }); }
          list.addEventListener("click", function (event) {
            var link = event.target.closest("a[data-line]");
            if (!link || link.dataset.thisFile !== "true") { return; }
            event.preventDefault();
            goTo(parseInt(link.dataset.line, 10), parseInt(link.dataset.column, 10));
          });
          renumber();
        })();
        """#
}
