extension AdminTemplates {
    /// The experiments list (`experiments`, `none`).
    static let experiments = #"""
        <section class="card">
          <h1>Experiments</h1>
          <p>Each experiment of the flows, with the numbers of <code>replyflow experiments report</code>. Open one for its
            variants, the difference to the first variant with its 95% interval, exposures per day and the flow versions
            that ran meanwhile.</p>
          {{#none}}<p class="muted">No experiments: no flow has an <code>experiment</code>, and no exposures are stored.</p>{{/none}}
          {{^none}}
          <table class="experiments">
            <thead><tr><th>Experiment</th><th>Flow</th><th>Variants</th><th>Users exposed</th><th>So far</th></tr></thead>
            <tbody>
            {{#experiments}}
            <tr>
              <td><a href="{{href}}">{{key}}</a></td>
              <td>{{#flow}}{{#flowHref}}<a href="{{flowHref}}">{{flow}}</a>{{/flowHref}}{{^flowHref}}{{flow}}{{/flowHref}}{{/flow}}{{#state}}<span class="muted">{{state}}</span>{{/state}}</td>
              <td>{{variants}}</td>
              <td>{{exposures}}</td>
              <td>{{headline}}</td>
            </tr>
            {{/experiments}}
            </tbody>
          </table>
          {{/none}}
        </section>
        """#

    /// One experiment (`ExperimentView.page`).
    static let experiment = #"""
        <section class="card experiment">
          <h1>Experiment {{key}}</h1>
          <p>{{#flow}}Flow {{#flowHref}}<a href="{{flowHref}}">{{flow}}</a>{{/flowHref}}{{^flowHref}}{{flow}}{{/flowHref}}.{{/flow}}{{#state}}<span class="muted">{{state}}.</span>{{/state}}
            {{#goal}}Goal: {{goal}}.{{/goal}}{{#span}} Exposures from {{span}}.{{/span}}</p>
          {{#mismatch}}<p class="banner-warning" role="alert"><strong>Sample ratio mismatch</strong> ({{mismatch}}): the users are not split
            the way the weights say. Something is wrong with the assignment or the records; do not trust these results until it is found.</p>{{/mismatch}}
          <p class="headline">{{headline}}</p>
          <table class="variants">
            <thead><tr><th>Variant</th><th>Share</th><th>Users exposed</th><th>Converted</th><th>Rate</th><th>Against the first</th>
              <th>95% interval</th><th></th><th>p-value</th><th>Reading</th></tr></thead>
            <tbody>
            {{#rows}}
            <tr>
              <td>{{name}}</td><td>{{share}}</td><td>{{exposures}}</td><td>{{conversions}}</td><td>{{rate}}</td>
              <td>{{#isBaseline}}<span class="muted">the baseline</span>{{/isBaseline}}{{difference}}</td>
              <td>{{interval}}</td>
              <td>{{#bar}}<svg class="interval-bar" width="260" height="26" viewBox="0 0 260 26" role="img" aria-label="{{label}}">
                <title>{{label}}</title>
                <line class="axis" x1="10" y1="13" x2="250" y2="13"></line>
                <line class="zero" x1="{{zero}}" y1="3" x2="{{zero}}" y2="23"></line>
                <rect class="interval {{tone}}" x="{{from}}" y="8" width="{{width}}" height="10" rx="2"></rect>
                <circle class="point {{tone}}" cx="{{point}}" cy="13" r="4"></circle>
              </svg>{{/bar}}</td>
              <td>{{p}}</td>
              <td class="verdict">{{verdict}}</td>
            </tr>
            {{/rows}}
            </tbody>
          </table>
          <p class="muted">The bars share one axis from {{axisLeft}} to {{axisRight}}; the line is no difference. Green or red
            only when the difference is clear (p-value under 0.05 and the interval away from zero).
            pp: percentage points, the difference between two rates (12.00% against 10.00% is +2.00 pp).
            Not significant yet: the difference could still be chance; keep the experiment running.
            {{#tooFew}}Each variant needs {{minimumUsers}} users and {{minimumConversions}} conversions before an interval is shown.{{/tooFew}}
            {{#ratioOK}}Sample ratio OK ({{ratioOK}}).{{/ratioOK}}</p>
          {{#daily}}
          <h2>Users first exposed per day</h2>
          <svg class="daily" width="640" height="180" viewBox="0 0 640 180" role="img" aria-label="Users first exposed per day, per variant">
            <title>Users first exposed per day, per variant, from {{firstDay}} to {{lastDay}}</title>
            <line class="axis" x1="{{left}}" y1="{{baseline}}" x2="{{right}}" y2="{{baseline}}"></line>
            <line class="axis" x1="{{left}}" y1="{{top}}" x2="{{left}}" y2="{{baseline}}"></line>
            <text x="{{left}}" y="{{labelY}}" class="tick">{{firstDay}}</text>
            <text x="{{right}}" y="{{labelY}}" class="tick end">{{lastDay}}</text>
            <text x="34" y="{{top}}" class="tick end">{{maximum}}</text>
            <text x="34" y="{{baseline}}" class="tick end">0</text>
            {{#series}}<polyline class="series series-{{index}}" points="{{points}}"><title>{{variant}}</title></polyline>{{/series}}
          </svg>
          <p class="legend">{{#series}}<span class="swatch series-{{index}}"></span> {{variant}} {{/series}}</p>
          <details><summary>The numbers</summary>
            <table><thead><tr><th>Day</th>{{#variantNames}}<th>{{.}}</th>{{/variantNames}}</tr></thead>
            <tbody>{{#table}}<tr><td>{{day}}</td>{{#counts}}<td>{{.}}</td>{{/counts}}</tr>{{/table}}</tbody></table>
          </details>
          {{/daily}}
          {{#file}}
          <h2>Versions of {{file}} during the experiment</h2>
          {{#noVersions}}<p class="muted">None recorded: the file was not changed in the panel while the experiment ran.</p>{{/noVersions}}
          <ul>{{#versions}}<li>version {{id}} ({{change}}) by {{author}}, {{at}}{{#comment}}: {{comment}}{{/comment}}</li>{{/versions}}</ul>
          <p><a href="/admin/flows/{{file}}/history">The flow's whole history</a></p>
          {{/file}}
          <p><a href="/admin/experiments">All experiments</a></p>
        </section>
        """#
}

extension AdminAssets {
    /// The experiment pages' part of the stylesheet.
    static let experimentsCSS = """
        /* The experiment pages. */
        .banner-warning { background: #fff3cd; border: 1px solid #e0b64c; border-radius: .3rem; padding: .6rem .8rem; }
        table.variants td, table.experiments td { vertical-align: middle; }
        .interval-bar .axis, .daily .axis { stroke: #9aa1ad; stroke-width: 1; }
        .interval-bar .zero { stroke: #1d2330; stroke-width: 1.5; }
        .interval-bar .unclear { fill: #9aa1ad; }
        .interval-bar .better { fill: var(--good); }
        .interval-bar .worse { fill: var(--bad); }
        .interval-bar .point { stroke: #1d2330; stroke-width: 1.5; }
        .daily .series { fill: none; stroke-width: 2; }
        .daily .tick { font-size: 11px; fill: #5d6675; }
        .daily .tick.end { text-anchor: end; }
        .series-0 { stroke: #2f5bd3; background: #2f5bd3; }
        .series-1 { stroke: #c2571a; background: #c2571a; }
        .series-2 { stroke: #1e7b34; background: #1e7b34; }
        .series-3 { stroke: #8a3ab9; background: #8a3ab9; }
        .series-4 { stroke: #b3261e; background: #b3261e; }
        .series-5 { stroke: #5d6675; background: #5d6675; }
        .swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: .2rem; vertical-align: middle; }

        """
}
