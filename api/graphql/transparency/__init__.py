"""EU DSA transparency: statements of reasons and notices (read through decisions and reports), and the
transparency report's figures."""
