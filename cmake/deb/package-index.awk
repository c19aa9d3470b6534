# Reads `apt-cache dumpavail` and prints one line per package: name, version, then what it
# provides (the Provides field as written). check_deb.sh resolves each Depends against these lines.
/^Package: /  { p = $2 }
/^Version: /  { v = $2 }
/^Provides: / { sub(/^Provides: /, ""); pr = $0 }
/^$/          { if (p != "") print p, v, pr; p = ""; v = ""; pr = "" }
END           { if (p != "") print p, v, pr }
