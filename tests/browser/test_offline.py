"""The single file stands alone: no requests, no errors, no dangling links, a working CSP."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_opens_from_disk_with_no_requests_and_no_errors(open_page: Any, book: Any) -> None:
    page = open_page(book)
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    watched = page.watched
    assert watched.requests, "the page itself should have been requested"
    assert watched.outside_requests() == []
    assert watched.errors == []


def test_every_fragment_resolves(open_page: Any, book: Any) -> None:
    page = open_page(book)
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('a[href^="#"]')]
            .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
            .filter(id => id !== '' && id !== 'top' && !document.getElementById(id))"""
    )
    assert dangling == []
    count = page.evaluate("document.querySelectorAll('a[href^=\"#\"]').length")
    assert count > 10


def test_csp_blocks_an_injected_inline_script(open_page: Any, book: Any) -> None:
    page = open_page(book, allow_errors=True)
    policy = page.evaluate(
        "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    )
    assert "script-src 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    violations = page.evaluate(
        """() => new Promise(resolve => {
            const seen = [];
            document.addEventListener('securitypolicyviolation',
                e => seen.push(e.violatedDirective));
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.body.append(script);
            setTimeout(() => resolve({seen, ran: window.__injected === true}), 100);
        })"""
    )
    assert violations["ran"] is False
    assert any(v.startswith("script-src") for v in violations["seen"])
