"""The datasets the book downloads: name -> files, each with its URL, sha256, size and licence.

The same table is in ``data/README.md`` (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it comes from and how to recognise it."""

    path: str  # relative path, in the mirror and in the cache
    url: str
    sha256: str
    size: int  # bytes


@dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple[RemoteFile, ...]
    licence: str
    description: str
    separator: str = "\n\n"  # what ``load_text`` puts between two files of the dataset


_STACKS = "https://raw.githubusercontent.com/stacks/stacks-project/4ac4815d5a00dc2eacab7824cf4e4baafe2773ac"
_GIT = "https://raw.githubusercontent.com/git/git/16bd9f20a403117f2e0d9bcda6c6e621d3763e77"  # tag v2.50.0

DATASETS: dict[str, Dataset] = {
    "tinyshakespeare": Dataset(
        name="tinyshakespeare",
        files=(
            RemoteFile(
                "tinyshakespeare.txt",
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                1_115_394,
            ),
        ),
        licence="public domain text",
        description="40,000 lines of Shakespeare, as used by Karpathy's char-rnn",
    ),
    "stacks-latex": Dataset(
        name="stacks-latex",
        files=tuple(
            RemoteFile(f"stacks-project/{stem}.tex", f"{_STACKS}/{stem}.tex", sha, size)
            for stem, sha, size in (
                ("schemes", "08475a01cf0ddf69734fd7ebc0d14d3831148c25a2ef82aaafdb65666f8fce47", 174_402),
                ("sheaves", "ac4f9edc7db85e66329806ec9ea42816187a469772844baea663e1c9a9f00b38", 184_841),
                ("topology", "44548f530113104b4e64385090ee1ac7be2d64e5841d749ab986e04efaaf5981", 236_912),
            )
        ),
        licence="GNU FDL 1.2",
        description="three chapters of the Stacks Project's LaTeX source (algebraic geometry)",
    ),
    "git-c": Dataset(
        name="git-c",
        files=tuple(
            RemoteFile(f"git-builtin/builtin/{stem}.c", f"{_GIT}/builtin/{stem}.c", sha, size)
            for stem, sha, size in (  # git's builtin/[a-h]*.c, sorted by path
                ("add", "179c9bd0bf618b1dac0e3a31ae34f16d48b897819fcb218b2d3e915132583fea", 16_909),
                ("am", "725e475894be1f34daf6b3b531f7d5576223ffaf4f091af3934300b5fbd931b6", 67_193),
                ("annotate", "486521b6719b8f58dd7e5733a1302997d676c531cede709b41778d70aebd640d", 742),
                ("apply", "78f0003b07890995f97437d6dc3be589160fef008cb30ddd8ddfa3b30e031fe1", 1_122),
                ("archive", "c9f9cda127abe719ac54b664ed2279bae0f59db9567ec295c2274f74f972955a", 3_107),
                ("backfill", "375565061b260dbfd71ac317fa39b1dd7b161aa55cf728f98a1c257a16716e6c", 3_467),
                ("bisect", "ea72a21c09ba81f70d8d3974555cdccf2f18e6be4ef8ada33b8877b0f9da95af", 38_090),
                ("blame", "abd696b7a01fd8b6eaaa839482b06a2cc9974b32c89143566081a01344aa790c", 35_589),
                ("branch", "17e2762f1d6857b99357518801278a0c2a6b3cff9c281b1cbc63d6fd2b96de3a", 32_186),
                ("bugreport", "61b300b47c0590e45ba10328f26b62e889e59b5ad26df961fc10c7ad543f36e8", 5_676),
                ("bundle", "3ff2b050c47d82df6f602aa463b09a9c7d40ac91334bd1f351003401c90d3012", 7_132),
                ("cat-file", "92896a08534234c58b35ddab51437569de2226a01a43fd9f7a4e8900c5fac3b2", 32_514),
                ("check-attr", "3429b69c669ba61386ff9bbdf14833eabe62509dfe369b6d046eed8c6d879baf", 5_253),
                ("check-ignore", "6e297ce16a601e35bba8505f502924467d02e7ef72c6106a48f5651db96a5019", 5_421),
                ("check-mailmap", "efd00cae9b8b5664fd2f73f76e44c933a8592f61841594316dfd254e1b881f36", 2_281),
                ("check-ref-format", "30db504e4bc3cd4f638c3aded3c2c319d5787beae2ab4433392a52422a3e4739", 2_368),
                ("checkout--worker", "b0cc13a5f62085aa3bd9495ae485858c814d2f3ade005cdf9e574bf864be1577", 4_219),
                ("checkout-index", "c1cd8cfabaf10079d9f7af944e0800e3809cf0563333775fb54bdb2423e70641", 9_260),
                ("checkout", "f6b6ff00ba3272134b6a87089e80616ef67e558dc7c7b48097ea8fa5d6bf3100", 64_727),
                ("clean", "2d3ea26525659fe7e294398eada7df2e9264a3e1d9f0c74c9e479653560a8981", 27_951),
                ("clone", "28f1e3cd1e6757548bafd987a44e53503f7f58d557ab5218ba602117be94b561", 49_806),
                ("column", "b0d5bbb279b829f7166951f6605a274514ae224e6ff323a032d684f0198cc217", 2_198),
                ("commit-graph", "6eec425e8f6cc9f4b185150b4d0846f67ddc738734bc27681cb6d6bf6e49f34e", 10_258),
                ("commit-tree", "5fc8817717eb2bb4532abc706bd39dfe2ef3785d27512fc3dd3cac98e0352c15", 3_827),
                ("commit", "ccdadd148ecb95b60a8879cbf224f7d6c62bc311034ac65e9392de5be9b70c64", 60_980),
                ("config", "b059f6f1282c27d6cf6099063e806e32d79c8a5a65665d79491be479d61e9f80", 45_996),
                ("count-objects", "ed8b11d7747795a17f9777e0c382051ffa8fac72bafcdc8d95e4248c0a906750", 4_386),
                ("credential-cache--daemon", "bc8b1d7aca507bf42fe5f63aa67fa79393aaca281deb7360e6471ea0527387a8", 9_005),
                ("credential-cache", "8d889406315500c7e40414d04796d07aaec5b13bc80b0aa799ef09613c734017", 4_819),
                ("credential-store", "81fb13a2db842ebb52f538ae743b4b2588ccf5990483546fbb360ac1471971f9", 6_155),
                ("credential", "b1db022c095acf594acaae18ef63b85c07c6fe7f5ff1c44431cf9c06280354fd", 1_298),
                ("describe", "56982282c955f05991f8441355d0d825c5e7938f498e9d96f8a879dc84f0be67", 19_932),
                ("diagnose", "802329bd4df791d40810d70d0128185556814cd3317bd747de835042a7bc4f53", 2_070),
                ("diff-files", "82d9a6ee34a5ab371148ad8a8c6c3d9b0dfa6501f21e5083ffe192cd5f8136b1", 2_553),
                ("diff-index", "6de13df35344ebde27e717b227ef608e70757ba3653cb8c748842201b5593f60", 2_223),
                ("diff-pairs", "9e04d5120d22d40200deb03213331ab2e3c45fe9d0d1c39a356d9438626562da", 5_422),
                ("diff-tree", "9b0ad1df893e5e5735252bd167c741309edbb55aadb7876916eaa2e214d43b28", 6_498),
                ("diff", "9fd049bf187a50176af3c5d05317dfd5ea4251b87888f9d13ae0ff8fd461add2", 17_211),
                ("difftool", "7ab0963854c9f7bdbdcd133f784c629f772728fa8251749810a9f4c6ee302aa1", 24_314),
                ("fast-export", "29776b9a5983ff240b70d06885228d5550d6eee3ca4b19abf7c81614e2a67205", 37_720),
                ("fast-import", "1ccecebaa45cca5ca5e851ad122c61ff6bd7acf2871bd516e87e61de045bc960", 97_968),
                ("fetch-pack", "5e1372b337d0d39e0d102442196ae881cd9a033eec4eaf5ef797b5a6e39302e3", 7_648),
                ("fetch", "8f494260999dfef19e125270c4a41817298e2e340f5e1ea6723238231f48492a", 77_736),
                ("fmt-merge-msg", "f9d6e5ee39a22331bb2200090cd36347e86b4640e00d707f4157ac603f86c5fe", 2_417),
                ("for-each-ref", "d491d05e5f7468af9944ad0f5dc276ca11c7f3a945b598ffe56e48633d5bbd7f", 4_009),
                ("for-each-repo", "c0e67721e1a144688a47d12ac298c95ff903f0a881a6b43a27f2f41871bb8ef4", 1_799),
                ("fsck", "0765f74ae3b951a7092f9bf693f997756e7bc9a01a5911f73d2edb606e027108", 31_018),
                ("fsmonitor--daemon", "dbc1f8d3946cbc188dbde303f99ea82203ab44d314410b19813144e65a0b0921", 45_548),
                ("gc", "a2e1cd14c28161434a8073d13315f65ec80422208f9df5f2a6b3647aa9e78dba", 83_590),
                ("get-tar-commit-id", "8f3c483ba218fcff18deccc5671d425731249e9fdcceb0dd5d4cd3e2dbb56286", 1_436),
                ("grep", "19af760770b611ca22f77b7ddcc076e9a44031620455844174c742a4c04d3cf2", 35_383),
                ("hash-object", "2754fa62a0d1899fb0d5051a0058a78066d58a99947fb0e2feeb85e7320d81b5", 4_248),
                ("help", "406e46de3a5f42b64dfc472f28fcbe29d0fe134adb4994d8437d9d8a0c9f49fb", 19_290),
                ("hook", "ea1aacce6f629a7d5f9eae79542bc093ee7c743205fbc99ad6b587470200d246", 2_096),
            )
        ),
        licence="GNU GPL v2",
        description="C source in the Linux kernel's style: git's builtin/[a-h]*.c at tag v2.50.0",
        separator="",  # the files back to back, each ends with a newline; sha256 of the whole in data/README.md
    ),
}
