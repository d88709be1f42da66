"""Code blocks: a language label and a keyboard-visible copy button on every block,
"Copied" announced, prompts and numbers never copied, fallbacks, line numbers."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Record what clipboard.js hands to execCommand("copy"): its hidden textarea's value.
SPY_COPY = """
const realExec = document.execCommand.bind(document);
document.execCommand = (command, ...rest) => {
    if (command === "copy") {
        const active = document.activeElement;
        window.__copied = active && "value" in active ? active.value : String(getSelection());
    }
    return realExec(command, ...rest);
};
"""

#: A browser with neither a working execCommand("copy") nor the Clipboard API.
NO_CLIPBOARD = """
document.execCommand = () => false;
Object.defineProperty(Navigator.prototype, "clipboard", {get: () => undefined, configurable: true});
"""

#: execCommand fails, the Clipboard API works: record what it is given.
CLIPBOARD_API_ONLY = """
document.execCommand = () => false;
const fake = {writeText: text => { window.__written = text; return Promise.resolve(); }};
Object.defineProperty(Navigator.prototype, "clipboard", {get: () => fake, configurable: true});
"""

BLOCKS = "div[class*='highlight-'] > div.highlight"


def opacity(page: Any, locator: Any) -> str:
    return str(page.evaluate("e => getComputedStyle(e).opacity", locator.element_handle()))


def block_with(page: Any, text: str) -> Any:
    return page.locator(BLOCKS).filter(has_text=text).first


def test_every_block_has_a_language_label_and_a_copy_button(open_page: Any, book: Any) -> None:
    page = open_page(book)
    counts = page.evaluate(
        f"""() => [...document.querySelectorAll("{BLOCKS}")].map(block => [
            block.querySelectorAll(':scope > .llmdoc-code-lang').length,
            block.querySelectorAll(':scope > button.copybtn').length,
            block.querySelector(':scope > .llmdoc-code-lang')?.textContent ?? '',
        ])"""
    )
    assert len(counts) >= 5
    assert all(label == 1 and button == 1 and text for label, button, text in counts), counts
    if book.name == "reader":
        labels = {text for _, _, text in counts}
        assert {"Shell", "Python console", "Python", "YAML", "Text", "Bash"} <= labels


def test_copy_button_shows_on_keyboard_focus_and_announces(open_page: Any, book: Any) -> None:
    # reduced motion: no fade, so the opacity read is the final one
    page = open_page(book, init_script=SPY_COPY, reduced_motion="reduce")
    block = page.locator(BLOCKS).first
    button = block.locator("button.copybtn")
    block.scroll_into_view_if_needed()
    assert opacity(page, button) == "0", "hidden until hovered or focused"
    button.focus()
    assert opacity(page, button) == "1"
    assert (
        page.evaluate("b => getComputedStyle(b).outlineStyle", button.element_handle()) == "solid"
    )
    assert button.get_attribute("aria-label") == "Copy code"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('llmdoc-live').textContent === 'Copied'")
    assert page.evaluate("document.activeElement.classList.contains('copybtn')"), "focus stays"
    shown = page.evaluate("b => b.querySelector('pre').textContent", block.element_handle())
    copied = page.evaluate("window.__copied")
    assert copied.strip()
    assert all(line in shown for line in copied.splitlines()), (copied, shown)


def test_prompts_output_and_line_numbers_are_never_copied(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book, init_script=SPY_COPY)
    cases = {
        "pip install": "pip install sphinx-llmdoc\nsphinx-build -b singlehtml docs build",
        "import sphinx_llmdoc": "import sphinx_llmdoc\nsphinx_llmdoc.__name__",
        "title: Reader Test Book": "book:\n  title: Reader Test Book\n  chapters: 3",
    }
    for marker, expected in cases.items():
        block = block_with(page, marker)
        block.hover()
        block.locator("button.copybtn").click()
        page.wait_for_function("() => window.__copied !== undefined")
        assert page.evaluate("window.__copied") == expected
        page.evaluate("window.__copied = undefined")


def test_without_any_clipboard_the_code_is_selected_for_the_shortcut(
    open_page: Any, reader_book: Any
) -> None:
    page = open_page(reader_book, init_script=NO_CLIPBOARD)
    block = block_with(page, "def configure")
    block.hover()
    block.locator("button.copybtn").click()
    page.wait_for_function(
        "() => document.getElementById('llmdoc-live').textContent.includes('press')"
    )
    selected = page.evaluate("String(getSelection())")
    assert selected.startswith("def configure(app):")
    assert "Control+C" in page.evaluate("document.getElementById('llmdoc-live').textContent")


def test_when_exec_command_fails_the_clipboard_api_copies(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book, init_script=CLIPBOARD_API_ONLY)
    block = block_with(page, "pip install")
    block.hover()
    block.locator("button.copybtn").click()
    page.wait_for_function("() => window.__written !== undefined")
    assert page.evaluate("window.__written") == (
        "pip install sphinx-llmdoc\nsphinx-build -b singlehtml docs build"
    )
    page.wait_for_function("() => document.getElementById('llmdoc-live').textContent === 'Copied'")


def test_line_numbers_toggle_beside_the_code(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book, init_script=SPY_COPY, reduced_motion="reduce")
    block = block_with(page, "def configure")
    toggle = block.locator(".llmdoc-linenos-toggle")
    toggle.focus()
    assert opacity(page, toggle) == "1"
    assert toggle.get_attribute("aria-pressed") == "false"
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    gutter = block.locator(".llmdoc-gutter")
    assert gutter.is_visible()
    assert gutter.inner_text().split() == ["1", "2", "3", "4", "5"]
    # each number sits level with its line of code
    tops = page.evaluate(
        """block => {
            const pre = block.querySelector('pre');
            const gutter = block.querySelector('.llmdoc-gutter');
            const [code, numbers] = [getComputedStyle(pre), getComputedStyle(gutter)];
            const firstLine = pre.getBoundingClientRect().top + parseFloat(code.paddingTop);
            const firstNumber =
                gutter.getBoundingClientRect().top + parseFloat(numbers.paddingTop);
            return [firstLine, firstNumber,
                    parseFloat(code.lineHeight), parseFloat(numbers.lineHeight)];
        }""",
        block.element_handle(),
    )
    assert abs(tops[0] - tops[1]) < 1 and abs(tops[2] - tops[3]) < 0.5, tops
    block.locator("button.copybtn").click()
    page.wait_for_function("() => window.__copied !== undefined")
    assert page.evaluate("window.__copied").startswith("def configure(app):")
    page.keyboard.press("Escape")
    toggle.click()
    assert not gutter.is_visible()
