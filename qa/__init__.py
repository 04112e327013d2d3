"""Answer questions about privacy policies with verbatim, cited excerpts.

>>> from qa import ask
>>> answer = ask("Does Comindware share data with Salesforce?")
>>> answer.found, answer.citations[0].company
(True, 'Comindware')
"""
from .answer import ask
from .records import Answer, Citation

__all__ = ["ask", "Answer", "Citation"]
