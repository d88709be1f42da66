"""A fake Mermaid renderer: SVG shaped like Mermaid's, no browser, and a call log.

Like Mermaid it prefixes only some ids with the render id, repeats one id, and
numbers ids from a counter that lives on between renders. A source containing
``%% break`` fails with a Mermaid-style parse error.
"""

from sphinx_llmdoc.mermaid import Rendered

CALLS = []
_counter = [0]


def render(jobs):
    CALLS.append([job.key for job in jobs])
    results = []
    for job in jobs:
        if "%% break" in job.source:
            message = "Parse error on line 2:\n...A -->\n------^\nExpecting 'NODE_STRING', got 'EOF'"
            results.append(Rendered(job, error=message))
            continue
        _counter[0] += 1
        n = _counter[0]
        first = job.source.splitlines()[0]
        svg = (
            f'<svg id="{job.prefix}" width="100%" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 200 60" role="graphics-document document" '
            f'aria-roledescription="flowchart-v2">'
            f"<style>#{job.prefix} .edge{{stroke:#333;}} #L_A_B_0 {{fill:none;}}</style>"
            f'<defs><marker id="{job.prefix}_arrow"><path d="M0 0L5 5"/></marker></defs>'
            f'<g id="{job.prefix}-node-{n}"><path class="edge" id="L_A_B_0" '
            f'marker-end="url(#{job.prefix}_arrow)" d="M0 0L100 0"/></g>'
            f'<g id="L_A_B_0"><text>{job.theme}: {first}</text></g></svg>'
        )
        results.append(Rendered(job, svg=svg))
    return results
