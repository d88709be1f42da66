// @ts-check
// sphinx-llmdoc reader behaviour for the single-file book.
"use strict";
