"""Chinese input formats with ISO first (issue 11).

Django writes a form's date in the first input format; Chinese's is 2026/09/05, which
`<input type="date">` and people comparing dates across pages both read worse than
2026-09-05. The other formats stay accepted. Display formats are Django's own.
"""

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-09-05'
    "%Y/%m/%d",  # '2026/09/05'
    "%Y年%m月%d日",  # '2026年9月5日'
]

DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
]
