"""The 排查 side (双重预防): risk register, check tasks, 举一反三 sweeps, 安全码."""
