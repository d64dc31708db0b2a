using Scalelite.Api.FreeSwitch;

namespace Scalelite.Tests.Api.FreeSwitch;

/// <summary>The dialplan documents, byte for byte as Scalelite's templates render them.</summary>
public sealed class DialplanTests
{
    [Fact]
    public void NotFound_Always_IsScalelitesRejectDocument()
    {
        Assert.Equal(
            """
            <document type="freeswitch/xml">
              <section name="result">
                <result status="not found"/>
              </section>
            </document>

            """.ReplaceLineEndings("\n"),
            Dialplan.NotFound());
    }

    [Fact]
    public void PinPrompt_WithMaxDuration_AnswersSchedulesHangUpAndAsksForThePin()
    {
        Assert.Equal(
            """
            <document type="freeswitch/xml">
              <section name="dialplan" description="Match DID and Pin for Conference">
                <context name="public">
                  <extension name="match_did_and_prompt_for_pin">
                    <condition field="destination_number" expression="^5551234$">
                      <action application="answer"/>
                      <action application="sched_hangup" data="+5400 normal_clearing"/>
                      <action application="sleep" data="500"/>
                      <action application="playback" data="ivr/ivr-welcome.wav"/>
                      <action application="sleep" data="200"/>
                      <action application="play_and_get_digits" data="5 9 3 7000 # conference/conf-enter_conf_pin.wav conference/conf-bad-pin.wav pin \d+"/>
                      <action application="transfer" data="${pin} XML public"/>
                    </condition>
                  </extension>
                </context>
              </section>
            </document>

            """.ReplaceLineEndings("\n"),
            Dialplan.PinPrompt("5551234", 5, 9, 5400));
    }

    [Fact]
    public void PinPrompt_WithoutMaxDuration_SetsNoHangUpTimer()
    {
        var xml = Dialplan.PinPrompt("5551234", 4, 10, 0);
        Assert.DoesNotContain("sched_hangup", xml, StringComparison.Ordinal);
        Assert.Contains("data=\"4 10 3 7000 #", xml, StringComparison.Ordinal);
    }

    [Fact]
    public void Reprompt_Always_PlaysBadPinAndAsksAgainWithScalelitesDigitPattern()
    {
        Assert.Equal(
            """
            <document type="freeswitch/xml">
              <section name="dialplan" description="Reprompt Pin for Conference">
                <context name="public">
                  <extension name="reprompt_for_pin">
                    <condition field="destination_number" expression="^5551234$">
                      <action application="playback" data="conference/conf-bad-pin.wav"/>
                      <action application="sleep" data="500"/>
                      <action application="play_and_get_digits" data="5 9 3 7000 # conference/conf-enter_conf_pin.wav conference/conf-bad-pin.wav pin d+"/>
                      <action application="transfer" data="${pin} XML public"/>
                    </condition>
                  </extension>
                </context>
              </section>
            </document>

            """.ReplaceLineEndings("\n"),
            Dialplan.Reprompt("5551234", 5, 9));
    }

    [Fact]
    public void Bridge_Always_SetsMeetingAndCallerAndBridgesToTheServerHost()
    {
        Assert.Equal(
            """
            <document type="freeswitch/xml">
              <section name="dialplan" description="Bridge Call to BBB Server">
                <context name="public">
                  <extension name="bridge_to_bbb_server">
                    <condition field="destination_number" expression="^5551234$">
                      <action application="set" data="meeting_id=lecture-1"/>
                      <action application="set" data="effective_caller_id_name=555XXXX"/>
                      <action application="bridge" data="sofia/external/123456789@bbb1.example.com"/>
                    </condition>
                  </extension>
                </context>
              </section>
            </document>

            """.ReplaceLineEndings("\n"),
            Dialplan.Bridge("5551234", "lecture-1", "555XXXX", "123456789", "bbb1.example.com"));
    }

    [Fact]
    public void Bridge_CallerValuesWithVariables_AreEscapedSoFreeSwitchDoesNotExpandThem()
    {
        var xml = Dialplan.Bridge("+1 555.1234", "m${x}\\", "Eve ${system(rm)} <&\">", "12345${a}", "h");
        Assert.Contains("expression=\"^\\\\+1\\\\ 555\\\\.1234$\"", xml, StringComparison.Ordinal);
        Assert.Contains("data=\"meeting_id=m\\${x}\\\\\"", xml, StringComparison.Ordinal);
        Assert.Contains("data=\"effective_caller_id_name=Eve \\${system(rm)} &lt;&amp;&quot;&gt;\"", xml, StringComparison.Ordinal);
        Assert.Contains("data=\"sofia/external/12345\\${a}@h\"", xml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a$b", "a$b")]
    [InlineData("${x}", "\\${x}")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("\\${", "\\\\\\${")]
    public void Escape_Value_EscapesBackslashesAndVariableStartsOnly(string value, string expected) => Assert.Equal(expected, Dialplan.Escape(value));

    [Theory]
    [InlineData("5551234", "5551234")]
    [InlineData("+49 (30) 1234-5", "\\+49\\ \\(30\\)\\ 1234\\-5")]
    [InlineData("a.b*c?d^e$f|g[h]i{j}k#l\\m", "a\\.b\\*c\\?d\\^e\\$f\\|g\\[h\\]i\\{j\\}k\\#l\\\\m")]
    [InlineData("tab\there\nnew", "tab\\there\\nnew")]
    public void RegexEscape_Destination_EscapesAsRubysRegexpEscape(string value, string expected) => Assert.Equal(expected, Dialplan.RegexEscape(value));

    [Theory]
    [InlineData(null, null, null, "Unavailable")]
    [InlineData("", null, null, "Unavailable")]
    [InlineData("Test User", null, null, "Test User")]
    [InlineData("Test User", "true", null, "Unavailable")]
    [InlineData("Test User", "TRUE", null, "Test User")]
    [InlineData("Test User", null, "true", "Test User")]
    [InlineData("5554321", null, null, "555XXXX")]
    [InlineData("5554321", "true", null, "555XXXX")]
    [InlineData("5554321", null, "true", "Unavailable")]
    [InlineData("1234", null, null, "XXXX")]
    [InlineData("12", null, null, "XX")]
    [InlineData("+15554321", null, "true", "+15554321")]
    public void CallerId_NameAndPrivacyFlags_AreShownAsScaleliteShowsThem(string? name, string? hideName, string? hideNumber, string expected) =>
        Assert.Equal(expected, Dialplan.CallerId(name, hideName, hideNumber));
}
