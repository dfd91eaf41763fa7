// Draw every Mermaid diagram of the page with the copy of mermaid.min.js beside this file.
mermaid.initialize({ startOnLoad: true });
