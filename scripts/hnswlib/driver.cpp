// Times hnswlib (scripts/hnswlib-compare.sh builds it) (inner-product space) on the files BenchmarkQueryEf writes:
// rows.f32 (l x (d+1), bias folded), queries.f32 (n x (d+1)), best.f32.
// Build M=16, efConstruction=100; per ef: median ms/query over 3 rounds
// (one thread, warm) and top-1 agreement with the full classifier.
#include <hnswlib/hnswlib.h>
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

static long g_dists = 0;
static hnswlib::DISTFUNC<float> g_inner;
static float countingDist(const void* a, const void* b, const void* p) { g_dists++; return g_inner(a, b, p); }
struct CountingSpace : hnswlib::SpaceInterface<float> {
    hnswlib::SpaceInterface<float>* s;
    explicit CountingSpace(hnswlib::SpaceInterface<float>* s) : s(s) { g_inner = s->get_dist_func(); }
    size_t get_data_size() override { return s->get_data_size(); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return countingDist; }
    void* get_dist_func_param() override { return s->get_dist_func_param(); }
};

static std::vector<float> readf(const char* path) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    size_t n = f.tellg();
    std::vector<float> v(n / 4);
    f.seekg(0);
    f.read(reinterpret_cast<char*>(v.data()), n);
    return v;
}

int main(int argc, char** argv) {
    if (argc < 2) { std::fprintf(stderr, "usage: driver DIR [index-file]\n"); return 2; }
    std::string dir = argv[1];
    const int d = 513;
    auto rows = readf((dir + "/rows.f32").c_str());
    auto qs = readf((dir + "/queries.f32").c_str());
    auto best = readf((dir + "/best.f32").c_str());
    size_t l = rows.size() / d, n = qs.size() / d;
    hnswlib::InnerProductSpace space(d);
    std::string idx = dir + "/hnswlib-ip-M16-efc100.bin";
    hnswlib::HierarchicalNSW<float>* g;
    std::ifstream probe(idx);
    if (probe.good()) {
        g = new hnswlib::HierarchicalNSW<float>(&space, idx);
    } else {
        g = new hnswlib::HierarchicalNSW<float>(&space, l, 16, 100, 1);
        auto t0 = std::chrono::steady_clock::now();
        g->addPoint(rows.data(), 0);
        std::vector<std::thread> ts;
        for (int t = 0; t < 2; t++)
            ts.emplace_back([&, t] { for (size_t i = 1 + t; i < l; i += 2) g->addPoint(rows.data() + i * d, i); });
        for (auto& t : ts) t.join();
        std::fprintf(stderr, "built in %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        g->saveIndex(idx);
    }
    bool ippt = argc > 2 && std::string(argv[2]) == "ippt";
    if (ippt) {
        // The Euclidean reduction of MIPS: rows (w, b, sqrt(R^2 - |(w,b)|^2)),
        // queries (h, 1, 0); the nearest row in L2 has the largest logit.
        const int e = d + 1;
        double R2 = 0;
        for (size_t i = 0; i < l; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += double(rows[i * d + j]) * rows[i * d + j];
            R2 = std::max(R2, s);
        }
        std::vector<float> ar(l * e), aq(n * e, 0.f);
        for (size_t i = 0; i < l; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) { ar[i * e + j] = rows[i * d + j]; s += double(rows[i * d + j]) * rows[i * d + j]; }
            ar[i * e + d] = float(std::sqrt(std::max(0.0, R2 - s)));
        }
        for (size_t i = 0; i < n; i++) std::copy(qs.begin() + i * d, qs.begin() + (i + 1) * d, aq.begin() + i * e);
        hnswlib::L2Space l2raw(e);
        CountingSpace l2(&l2raw);
        std::string idx2 = dir + "/hnswlib-ippt-M16-efc100.bin";
        hnswlib::HierarchicalNSW<float>* h;
        std::ifstream probe2(idx2);
        if (probe2.good()) {
            h = new hnswlib::HierarchicalNSW<float>(&l2, idx2);
        } else {
            h = new hnswlib::HierarchicalNSW<float>(&l2, l, 16, 100, 1);
            h->addPoint(ar.data(), 0);
            std::vector<std::thread> ts;
            for (int t = 0; t < 2; t++)
                ts.emplace_back([&, t] { for (size_t i = 1 + t; i < l; i += 2) h->addPoint(ar.data() + i * e, i); });
            for (auto& t : ts) t.join();
            h->saveIndex(idx2);
        }
        for (int ef : {16, 32, 64, 128, 256, 512}) {
            h->setEf(ef);
            g_dists = 0;
            std::vector<double> times;
            int hit = 0;
            for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < n; i++) {
                    auto t0 = std::chrono::steady_clock::now();
                    auto r = h->searchKnn(aq.data() + i * e, 1);
                    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                    if (round == 0 && r.top().second == (size_t)best[i]) hit++;
                }
            std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
            std::printf("hnswlib ippt ef=%d ms/query %.4f top1 %.3f dists/q %.1f\n", ef, times[times.size() / 2], double(hit) / n, double(g_dists) / (3 * n));
        }
        return 0;
    }
    for (int ef : {16, 32, 64, 128, 256, 512}) {
        g->setEf(ef);
        std::vector<double> times;
        int hit = 0;
        for (int round = 0; round < 3; round++)
            for (size_t i = 0; i < n; i++) {
                auto t0 = std::chrono::steady_clock::now();
                auto r = g->searchKnn(qs.data() + i * d, 1);
                times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                if (round == 0 && r.top().second == (size_t)best[i]) hit++;
            }
        std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
        std::printf("hnswlib ip ef=%d ms/query %.4f top1 %.3f\n", ef, times[times.size() / 2], double(hit) / n);
    }
}
