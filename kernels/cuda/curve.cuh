// G1 of BN254 and BLS12-381 (y^2 = x^3 + b, a = 0) in XYZZ coordinates: x = X/ZZ, y = Y/ZZZ,
// ZZ^3 = ZZZ^2. An addition costs 12M + 2S (8M + 2S with an affine operand) and needs no
// inversion; b never appears. Infinity is ZZ = 0; an affine point (0, 0), which is on
// neither curve, stands for infinity in uploaded bases, as the wire format's flag does.
#pragma once
#include "fields.cuh"

namespace offload {

template <class F>
struct Affine {
  F x, y;
  HD bool is_inf() const { return x.is_zero() && y.is_zero(); }
};

template <class F>
struct Xyzz {
  F x, y, zz, zzz;

  HD static Xyzz infinity() {
    Xyzz r;
    r.x = F::one();
    r.y = F::one();
    r.zz = F::zero();
    r.zzz = F::zero();
    return r;
  }
  HD bool is_inf() const { return zz.is_zero(); }

  HD static Xyzz from_affine(const Affine<F>& a) {
    if (a.is_inf()) return infinity();
    Xyzz r;
    r.x = a.x;
    r.y = a.y;
    r.zz = F::one();
    r.zzz = F::one();
    return r;
  }

  HD static Xyzz neg(const Xyzz& p) {
    Xyzz r = p;
    r.y = F::neg(p.y);
    return r;
  }

  // dbl-2008-s-1. A point with y = 0 (none on these groups) would come out as infinity.
  HD static Xyzz dbl(const Xyzz& p) {
    if (p.is_inf()) return p;
    F u = F::add(p.y, p.y);
    F v = F::sqr(u);
    F w = F::mul(u, v);
    F s = F::mul(p.x, v);
    F x2 = F::sqr(p.x);
    F m = F::add(F::add(x2, x2), x2);
    Xyzz r;
    r.x = F::sub(F::sqr(m), F::add(s, s));
    r.y = F::sub(F::mul(m, F::sub(s, r.x)), F::mul(w, p.y));
    r.zz = F::mul(v, p.zz);
    r.zzz = F::mul(w, p.zzz);
    return r;
  }

  // add-2008-s, with the cases the formula does not cover: an operand at infinity, equal
  // points (doubling), opposite points (infinity).
  HD static Xyzz add(const Xyzz& p, const Xyzz& q) {
    if (p.is_inf()) return q;
    if (q.is_inf()) return p;
    F u1 = F::mul(p.x, q.zz);
    F u2 = F::mul(q.x, p.zz);
    F s1 = F::mul(p.y, q.zzz);
    F s2 = F::mul(q.y, p.zzz);
    F pd = F::sub(u2, u1);
    F rd = F::sub(s2, s1);
    if (pd.is_zero()) return rd.is_zero() ? dbl(p) : infinity();
    F pp = F::sqr(pd);
    F ppp = F::mul(pd, pp);
    F qq = F::mul(u1, pp);
    Xyzz r;
    r.x = F::sub(F::sub(F::sqr(rd), ppp), F::add(qq, qq));
    r.y = F::sub(F::mul(rd, F::sub(qq, r.x)), F::mul(s1, ppp));
    r.zz = F::mul(F::mul(p.zz, q.zz), pp);
    r.zzz = F::mul(F::mul(p.zzz, q.zzz), ppp);
    return r;
  }

  // madd-2008-s: p + an affine point.
  HD static Xyzz add_affine(const Xyzz& p, const Affine<F>& q) {
    if (q.is_inf()) return p;
    if (p.is_inf()) return from_affine(q);
    F u2 = F::mul(q.x, p.zz);
    F s2 = F::mul(q.y, p.zzz);
    F pd = F::sub(u2, p.x);
    F rd = F::sub(s2, p.y);
    if (pd.is_zero()) return rd.is_zero() ? dbl(p) : infinity();
    F pp = F::sqr(pd);
    F ppp = F::mul(pd, pp);
    F qq = F::mul(p.x, pp);
    Xyzz r;
    r.x = F::sub(F::sub(F::sqr(rd), ppp), F::add(qq, qq));
    r.y = F::sub(F::mul(rd, F::sub(qq, r.x)), F::mul(p.y, ppp));
    r.zz = F::mul(p.zz, pp);
    r.zzz = F::mul(p.zzz, ppp);
    return r;
  }
};

typedef Affine<Bn254Fq> Bn254G1Affine;
typedef Xyzz<Bn254Fq> Bn254G1;
typedef Affine<Bls12381Fq> Bls12381G1Affine;
typedef Xyzz<Bls12381Fq> Bls12381G1;

}  // namespace offload
