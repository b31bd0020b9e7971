"""Files in, one validated dataset out: the data spec, readers behind limits, and the
dataset a report run validates once and every notebook reads."""
