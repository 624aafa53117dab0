"""Fix mode: the code findings and `.env` damage the doctor can repair mechanically, rewritten.

The scan's findings (judged against the installed SDK) are located in a format-preserving syntax
tree (libcst); each one becomes either an action the rewriter applies or guidance with its place.
A file's rewrite is kept only if it parses and the scan, run again on it, no longer finds what was
fixed and finds nothing new (`run.plan_fixes`).
"""
