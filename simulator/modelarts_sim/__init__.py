"""Local simulator of Huawei Cloud ModelArts Lite for tests, rehearsals and benchmarks."""
