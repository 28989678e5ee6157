extension AdminAssets {
    /// The panel's stylesheet: system fonts, one column on a phone.
    static let panelCSS = """
        :root { --fg: #1d2330; --muted: #5d6675; --line: #d9dde4; --bg: #f5f6f8; --card: #fff; --accent: #2f5bd3; --bad: #b3261e; --good: #1e7b34; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        a { color: var(--accent); }
        .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
        .bar .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
        .bar nav { display: flex; gap: .8rem; flex: 1; }
        .bar .who { color: var(--muted); }
        .bar .who-role { font-size: .85em; border: 1px solid var(--line); border-radius: 1em; padding: 0 .5em; }
        .bar form.logout { margin: 0; }
        main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
        .card.narrow { max-width: 26rem; margin: 3rem auto; }
        h1 { font-size: 1.35rem; margin: 0 0 .8rem; }
        h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
        label { display: block; margin: .5rem 0; }
        input, select, button, textarea { font: inherit; }
        input:not([type=hidden]), select { padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
        .stacked input, .card.narrow input { display: block; width: 100%; margin-top: .2rem; }
        button { padding: .35rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
        form.inline { display: flex; gap: .4rem; align-items: center; margin: 0; }
        .error { color: var(--bad); white-space: pre-line; }
        .notice { color: var(--good); }
        .muted { color: var(--muted); }
        table.list { width: 100%; border-collapse: collapse; }
        table.list th, table.list td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
        table.list td.detail { word-break: break-word; }
        tr.disabled td.name { color: var(--muted); text-decoration: line-through; }
        .pager { display: flex; gap: 1rem; margin-top: .8rem; }
        @media (max-width: 40rem) {
          table.list thead { display: none; }
          table.list tr, table.list td { display: block; }
          form.inline { flex-wrap: wrap; }
        }

        """
}
