package io.reflex.bench;

/** A {@code HOST:PORT} given on the command line ({@code [v6addr]:port} for IPv6 literals). */
record ServerAddress(String host, int port) {

    static ServerAddress parse(String s) {
        String t = s.strip();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) throw new IllegalArgumentException("server '" + s + "' is not HOST:PORT");
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("server '" + s + "' has a bad port");
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("server '" + s + "': port must be 1..65535");
        return new ServerAddress(host, port);
    }

    @Override
    public String toString() { return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port; }
}
