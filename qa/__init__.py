"""Answer questions about privacy policies with verbatim, cited excerpts.

>>> from qa import ask
>>> answer = ask("Does Comindware share data with Salesforce?")
>>> answer.found, answer.citations[0].company
(True, 'Comindware')
"""
from .answer import ask
from .overview import Cell, Overview, OverviewRow, overview
from .records import Answer, Citation
from .safe import SafeReply, safe_ask, safe_call

__all__ = ["ask", "overview", "safe_ask", "safe_call", "SafeReply", "Answer", "Citation", "Overview", "OverviewRow",
           "Cell"]
