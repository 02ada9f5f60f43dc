"""Monitoring keeps the page honest: alerts and built-in checks become signals, shown to the
team at once, suggested to the page owner (or followed, where a component is `auto`), and
compared with what the page says (drift). README "Monitoring"."""
