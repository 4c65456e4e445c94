"""How a partnership governs its own settings: its administrator's write
paths (``services``) and the reads of the settings and their history
(``selectors``), each through the access policy. The settings themselves
live low in the house (``partnerships``), where deadlines and intake read
them; this part sits above the access policy because changing them is a
decision it makes."""
