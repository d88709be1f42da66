"""A stand-in diagram directive: a figure marked ``llmdoc-diagram`` around raw SVG."""

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class Sketch(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        svg = '<svg role="img" viewBox="0 0 1 1"><title>svg words never count</title></svg>'
        figure = nodes.figure(classes=["llmdoc-diagram"])
        figure += nodes.raw("", svg, format="html")
        figure += nodes.caption(self.arguments[0], self.arguments[0])
        return [figure]


def setup(app):
    app.add_directive("sketch", Sketch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
