"""What "states a fact" means, once, for generation, verification and evaluation.

- :mod:`mimir.facts.text`: sentences of a document and the fact strings they hold (numbers,
  times, dates, codes, names) — what the recipe asks about and a check question's key facts.
- :mod:`mimir.facts.match`: whether a text states a fact string, after normalising case, number
  words and formats ("seven days" states "7 days") — used by the recipe's answer check, the
  grounding of generated answers, the knowledge check and the reference judge alike.
- :mod:`mimir.facts.entities`: typed facts (times, dates, amounts with units, codes) with values,
  for verification to compare a claim with its source.
"""
