"""IsolatedExtractor with a page in flight ahead (submit/collect): results in order and equal to an
in-process extraction, and a page that hangs or kills the child costs that page only, not the one behind it."""

import time

import pytest

from test_extract import aeb  # noqa: F401 - the real AEB pages, as (html, url, truth)
from webtext.pipeline.extract.isolated import ExtractError, ExtractTimeout, IsolatedExtractor
from webtext.pipeline.extract.worker import extract_page


@pytest.fixture
def extractor():
    ex = IsolatedExtractor(timeout_s=60)
    yield ex
    ex.close()


def warm(ex, aeb):  # noqa: F811
    ex(aeb[0][0], aeb[0][1])  # child started, trafilatura imported: what follows is timed by extraction alone


def test_results_come_back_in_order_and_equal_in_process(extractor, aeb):  # noqa: F811
    got = []
    for i, (html, url, _) in enumerate(aeb[:8]):
        if extractor.pending() >= extractor.depth:
            got.append(extractor.collect())
        extractor.submit(html, url, tag=i)
    while extractor.pending():
        got.append(extractor.collect())
    assert [tag for tag, _, _ in got] == list(range(8))
    assert [result for _, result, _ in got] == [extract_page(html, url) for html, url, _ in aeb[:8]]
    assert all(ms > 0 for _, _, ms in got)


def test_a_timeout_costs_that_page_only(extractor, aeb):  # noqa: F811
    warm(extractor, aeb)
    extractor.timeout_s = 0.0005  # no real extraction finishes this fast
    extractor.submit(aeb[1][0], aeb[1][1], tag="slow")
    extractor.submit(aeb[2][0], aeb[2][1], tag="next")
    with pytest.raises(ExtractTimeout) as e:
        extractor.collect()
    assert e.value.tag == "slow"
    extractor.timeout_s = 60
    tag, result, ms = extractor.collect()
    assert (tag, result) == ("next", extract_page(aeb[2][0], aeb[2][1])) and ms > 0


def test_a_dead_child_costs_the_page_it_was_on_only(extractor, aeb):  # noqa: F811
    warm(extractor, aeb)
    extractor.submit(aeb[3][0], aeb[3][1], tag="killed")
    extractor.submit(aeb[4][0], aeb[4][1], tag="next")
    extractor._proc.kill()  # an extraction takes milliseconds: the child dies on the first page
    with pytest.raises(ExtractError) as e:
        extractor.collect()
    assert e.value.tag == "killed"
    tag, result, _ = extractor.collect()  # sent again to a fresh child
    assert (tag, result) == ("next", extract_page(aeb[4][0], aeb[4][1]))


def test_a_child_found_dead_at_the_next_submit_is_not_waited_for(extractor, aeb):  # noqa: F811
    """The child dies with a page sent, and the next page is submitted before anything is collected:
    the sent page is read back or lost at once (not after timeout_s), the next one goes to a fresh child."""
    warm(extractor, aeb)
    extractor.submit(aeb[3][0], aeb[3][1], tag="killed")
    extractor._proc.kill()
    extractor._proc.wait()
    extractor.submit(aeb[4][0], aeb[4][1], tag="next")
    start = time.monotonic()
    with pytest.raises(ExtractError) as e:
        extractor.collect()
    assert e.value.tag == "killed"
    tag, result, _ = extractor.collect()
    assert (tag, result) == ("next", extract_page(aeb[4][0], aeb[4][1]))
    assert time.monotonic() - start < extractor.timeout_s / 2


@pytest.mark.slow
def test_pages_larger_than_the_pipe_do_not_deadlock(extractor):
    """Two pages whose HTML and text are each larger than the pipe: the second waits until the child is
    idle (were both written, the child blocked on writing a text and we on writing HTML would hang)."""
    extractor.timeout_s = 120
    pages = [("<html><body>" + "".join(f"<p>Paragraph {i} of page {k}, with enough words to be kept as text.</p>"
                                      for i in range(30_000)) + "</body></html>") for k in range(2)]
    assert len(pages[0]) > 2 << 20
    for k, html in enumerate(pages):
        extractor.submit(html, None, tag=k)
    for k, html in enumerate(pages):
        tag, result, _ = extractor.collect()
        assert tag == k and result == extract_page(html, None)
        assert len(result["text"]) > 1 << 20
