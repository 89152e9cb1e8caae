/**
 * Passwords people pick most often (lower-cased), from public breach top lists, plus the
 * shapes popular with Chinese users and this platform's own published demo password. The
 * policy (api/password.ts) refuses them outright, and also when digits or punctuation are
 * only stuck around one of them ("password2026!"). Short entries matter for that second
 * check even though the length rule already refuses them alone.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `
password passw0rd p@ssw0rd p@ssword pass pass123 password1 password12 password123 password1234 mypassword
secret letmein welcome welcome1 changeme default login admin admin123 admin1234 administrator root toor guest test
tester testing demo user username qwerty qwert qwertyu qwertyui qwertyuiop qwerty123 qwerty1234 qwe123 qweasd
qweasdzxc asdf asdfgh asdfghjkl zxcvbn zxcvbnm 1qaz2wsx 1qaz2wsx3edc 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4
q1w2e3r4t5 zaq12wsx abc123 abcd1234 abc12345 a123456 a1234567 a12345678 aa123456 aa12345678 qq123456 123456a
123456789a 123456abc 123abc 123qwe 1234qwer iloveyou iloveyou1 iloveyou2 woaini woaini1314 wo5201314 5201314
1314520 woaiwojia nihao caonima wangyang zhang123 li123456 woshishui dearbook 123456 1234567 12345678
123456789 1234567890 0123456789 0987654321 987654321 9876543210 12345678910 11111111 111111111 1111111111
00000000 000000000 0000000000 88888888 888888888 66666666 666666666 99999999 123123 123123123 123321
147258369 147258 159753 159357 741852963 789456123 112233 11223344 121212 123654 654321 696969 aaaaaa
monkey dragon master shadow sunshine princess football baseball basketball soccer hockey superman batman
spiderman michael jennifer jordan jordan23 hunter hunter2 ranger buster thomas robert daniel charlie
andrew michelle jessica ashley amanda joshua matthew anthony william harley pepper ginger cookie cheese
chocolate summer winter freedom whatever trustno1 starwars computer internet access flower lovely
love loveme lover iloveu sweety angel angels hello hello123 hello1234 killer pokemon naruto samsung
google apple microsoft facebook linkedin yahoo tencent baidu taobao alibaba huawei xiaomi
beijing shanghai tianjin harbin qingdao china zhongguo
heatwatch heatwatch-demo heatwatchdemo heating district-heating
`
    .split(/\s+/)
    .filter(Boolean),
);
